/**
 * Admission control from the engine's own flush lag (pure: the flush scheduler measures, this
 * decides; unit-tested in overload-guard.test.ts).
 *
 * The lag of a write tick is the time from the moment its first viewer had data waiting to the
 * moment the tick finished writing. A keeping-up engine stays under the coalescing ceiling
 * (ONAIR_FLUSH_INTERVAL) plus the tick's own work. When the writes of a tick take longer than the
 * interval, or the event loop is too busy to start them, the lag grows past it, and every viewer
 * (not only the newest) gets its data later and later until the slow-viewer policy closes them:
 * the collapse issue 15 measured one step past the ceiling. So past a lag limit the engine refuses
 * new viewers (HTTP-FLV / WS-FLV 503 with Retry-After, RTMP NetStream.Play.Failed) and keeps
 * serving the ones it has.
 *
 * No knob: the limit is derived from the ceiling. A keeping-up engine with a large audience waits
 * the ceiling C between ticks and a tick's writes take D, so data that arrives as a tick starts
 * is written ~C + 2D later (C + 2D is ~180 ms at 3,200 viewers with C = 100 ms, D ~40 ms). The
 * engine cannot keep up once a tick's writes take longer than the interval (D > C), i.e. once
 * the lag passes 3C: that is the limit (at least MIN_LIMIT_MS); ONAIR_MEDIA_MAX_FLUSH_LAG
 * overrides it. The lag is smoothed over ticks (one GC pause does not refuse anyone for long).
 *
 * A join ramp is not an engine that cannot keep up. Hundreds of viewers a second, each first
 * written a GOP burst of up to ~2 s of video, push the lag past the limit for a few seconds while
 * the steady audience needs well under a core (issue 15: refusals at 3,200 viewers and 40 % of a
 * core). So the guard refuses only when the engine is behind for real:
 * - the time the ticks' wait spent writing start-up bursts is taken out of their lag (the lag that
 *   matters is the steady viewers' live data; the scheduler measures the time the bursts held the event loop, at most half the lag);
 * - the event loop must be saturated as well: its utilization (the share of time not idle, passed
 *   with each tick, smoothed over about BUSY_WINDOW_MS) at least BUSY_SHARE. A loop that still has idle time
 *   can run every tick it is given, whatever the lag says;
 * - while viewers join at a ramp's rate, the joins themselves saturate the loop (issue 15's trace,
 *   load 1.7, at 4,800 offered: utilization 1.0 and process CPU 0.96-0.98 during the ramp, refusals from
 *   3,650 viewers, then 0.46-0.79 of the core with the ramp over). Unless the audience's own writes
 *   (the ticks' process CPU time) take WORK_SHARE of the core, the smoothed lag may then reach
 *   RAMP_LIMIT_FACTOR times the limit: a ramp costs the audience a little latency for a few seconds;
 * - both must hold for SUSTAIN_MS on end, not in a smoothed spike.
 * Data waiting longer than the limit plus SUSTAIN_MS right now, or a tick that reports such a lag,
 * is overload as well (a loop too busy to run ticks reports few or none). The guard admits again once the smoothed lag is back under
 * RECOVER_SHARE of the limit or the loop has idle time again (utilization under RECOVER_BUSY), or
 * when no tick has reported for a while (the audience left, so nothing is behind).
 */

/** The lag limit when the ceiling is tiny or zero (no coalescing): a viewer's write waits this long. */
export const MIN_LIMIT_MS = 50;
/** Weight of a new tick's lag in the smoothed lag (about the last 4 ticks count). */
export const SMOOTHING = 0.25;
/** Admit again once the smoothed lag is under this share of the limit (hysteresis: no flapping): 2C, a tick of half the interval. */
export const RECOVER_SHARE = 2 / 3;
/** The event loop counts as saturated from this utilization (smoothed over ticks, like the lag). */
export const BUSY_SHARE = 0.9;
/** Time constant (ms) of the smoothed utilization: about the last four ticks at the 100 ms ceiling. */
export const BUSY_WINDOW_MS = 400;
/**
 * During a join ramp the loop is saturated by the joins (accepts, requests, hooks, start-up bursts),
 * not by the audience: it counts as saturated only when the ticks' own writes (the steady audience's
 * fan-out, process CPU time per wall time, smoothed like the utilization) take at least this share of
 * the core. Issue 15's trace (load 1.7): 3,650 viewers wrote 0.3-0.48 of the core in their ticks with the
 * process at 0.46-0.79 (the rest: ingest, GC, timers); 0.6 of writes leaves nothing for the rest.
 */
export const WORK_SHARE = 0.6;
/**
 * During a join ramp the lag may reach this multiple of the limit before the joins count as the
 * overload (the loop saturated, the audience's writes under WORK_SHARE): the admitted viewers then
 * get their data late for the ramp's few seconds (a 15 s window loses ~3 % of its bytes at 450 ms),
 * and past it the ramp itself starves them (issue 15's trace at 6,400 offered: 1-1.7 s of lag). 2x let
 * 6,400 HTTP-FLV offered collapse (67.8 % of the admitted healthy, LOADED); docs/benchmarks.md.
 */
export const RAMP_LIMIT_FACTOR = 1.5;
/** Once overloaded, a loop under this utilization is keeping up again (hysteresis). */
export const RECOVER_BUSY = 0.75;
/** The lag and the saturated loop must last this long before anyone is refused (a join ramp's spike does not). */
export const SUSTAIN_MS = 1000;
/** The largest share of a tick's lag that start-up bursts may explain away (a join ramp's bursts measured about a tenth). */
export const STARTUP_SHARE_MAX = 0.5;
/** Seconds a refused viewer is told to wait (Retry-After). */
export const RETRY_AFTER_S = 2;

/** The lag limit: the override when set (> 0), else three times the coalescing ceiling, at least MIN_LIMIT_MS. */
export function flushLagLimitMs(ceilingMs: number, overrideMs = 0): number {
  if (overrideMs > 0) return overrideMs;
  return Math.max(MIN_LIMIT_MS, 3 * ceilingMs);
}

/** What the engine measured over a tick besides its lag. */
export interface TickLoad {
  /** Event-loop utilization since the previous tick, 0..1 (perf_hooks eventLoopUtilization); 1 when unknown. */
  busy?: number;
  /** Ms the event loop spent, while the tick's data waited, writing new viewers' start-up bursts (taken out of the lag). */
  startupMs?: number;
  /** Share of the core (process CPU ms per wall ms, since the previous tick) the ticks' writes took; 1 when unknown. */
  work?: number;
  /** Viewers are joining at a ramp's rate (JoinRate): the loop's utilization is theirs as much as the audience's. */
  joining?: boolean;
}

export class OverloadGuard {
  private smoothed = 0;
  private busy = 0;
  private work = 0;
  private overloaded = false;
  /** Since when the smoothed lag has been over the limit with a saturated loop (undefined: it is not). */
  private behindSince: number | undefined;
  private lastSampleAt = -Infinity;
  /** Which evidence last latched the overload (logs): 'tick' (one tick's lag), 'sustained', 'waiting' (live data wait). */
  latchedBy: 'tick' | 'sustained' | 'waiting' | undefined;
  /** Viewers refused while overloaded, by protocol (metrics). */
  readonly refusals: Record<string, number> = {};

  constructor(readonly limitMs: number) {}

  /** A write tick finished `lagMs` after its first viewer had data waiting, at `nowMs`, under `load`. */
  recordLag(lagMs: number, nowMs: number, load: TickLoad = {}): void {
    if (!(lagMs >= 0)) return;
    const startup = load.startupMs !== undefined && load.startupMs > 0 ? load.startupMs : 0;
    // Joins explain at most half of a tick's lag (STARTUP_SHARE_MAX): a steady stream of new viewers
    // on an engine that is behind would otherwise explain all of its lag away, and keep being admitted.
    const lag = Math.max(lagMs * (1 - STARTUP_SHARE_MAX), lagMs - startup);
    const busy = load.busy !== undefined && load.busy >= 0 ? Math.min(1, load.busy) : 1;
    const first = this.lastSampleAt === -Infinity;
    this.smoothed = first ? lag : this.smoothed + SMOOTHING * (lag - this.smoothed);
    // Each utilization sample covers the time since the previous tick: weighed by that time, so the
    // reading follows the loop as fast when ticks are rare (a saturated loop) as when they are not.
    const w = first ? 1 : 1 - Math.exp(-Math.max(0, nowMs - this.lastSampleAt) / BUSY_WINDOW_MS);
    this.busy = first ? busy : this.busy + w * (busy - this.busy);
    const work = load.work !== undefined && load.work >= 0 ? Math.min(1, load.work) : 1;
    this.work = first ? work : this.work + w * (work - this.work);
    this.lastSampleAt = nowMs;
    // A ramp's joins saturate the loop while the audience may need half of it: then the saturation
    // must show in the ticks' own writes.
    const joining = load.joining === true;
    const saturated = this.busy >= BUSY_SHARE;
    const limit = joining && this.work < WORK_SHARE ? RAMP_LIMIT_FACTOR * this.limitMs : this.limitMs;
    // Data that waited longer than the limit plus SUSTAIN_MS is the live reading's evidence (see
    // isOverloaded), read when its tick finally ran: a loop starved for that long reports few ticks.
    if (lag > this.limitMs + SUSTAIN_MS) {
      this.behindSince ??= nowMs;
      if (!this.overloaded) this.latchedBy = 'tick';
      this.overloaded = true;
      return;
    }
    if (this.smoothed > limit && saturated) {
      this.behindSince ??= nowMs;
      if (nowMs - this.behindSince >= SUSTAIN_MS) {
        if (!this.overloaded) this.latchedBy = 'sustained';
        this.overloaded = true;
      }
      return;
    }
    this.behindSince = undefined;
    if (this.smoothed < RECOVER_SHARE * this.limitMs || this.busy < RECOVER_BUSY) this.overloaded = false;
  }

  /** The smoothed flush lag (ms), for metrics. */
  get lagMs(): number {
    return this.smoothed;
  }

  /** The overload state as last decided, without a live reading (logs). */
  get latched(): boolean {
    return this.overloaded;
  }

  /** The smoothed share of the core the ticks' writes take (0..1), for logs. */
  get workShare(): number {
    return this.work;
  }

  /** The smoothed event-loop utilization of the ticks (0..1), for logs. */
  get busyShare(): number {
    return this.busy;
  }

  /**
   * True while the engine is behind. `waitingSinceMs` (the scheduler's oldest unwritten data) makes
   * a live reading: data waiting longer than the limit plus SUSTAIN_MS right now is overload even
   * when no tick has reported (an event loop too busy to run ticks reports nothing). No tick for 4
   * limits (and at least a second) with nothing waiting clears it: the audience left, nothing is
   * queued any more.
   */
  isOverloaded(nowMs: number, waitingSinceMs?: number): boolean {
    if (waitingSinceMs !== undefined && nowMs - waitingSinceMs > this.limitMs + SUSTAIN_MS) {
      if (!this.overloaded) this.latchedBy = 'waiting';
      this.overloaded = true;
      return true;
    }
    if (this.overloaded && waitingSinceMs === undefined && nowMs - this.lastSampleAt > Math.max(1000, 4 * this.limitMs)) {
      this.overloaded = false;
      this.smoothed = 0;
      this.behindSince = undefined;
    }
    return this.overloaded;
  }

  /** Whether a new viewer of `protocol` may start now; counts the refusal when not. */
  admit(protocol: string, nowMs: number, waitingSinceMs?: number): boolean {
    if (!this.isOverloaded(nowMs, waitingSinceMs)) return true;
    this.refusals[protocol] = (this.refusals[protocol] ?? 0) + 1;
    return false;
  }
}
