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
 * overrides it. The lag is smoothed over ticks
 * (one GC pause does not refuse anyone for long), and the guard admits again once the smoothed lag
 * is back under RECOVER_SHARE of the limit, or when no tick has reported for a while (the audience
 * left, so nothing is behind).
 */

/** The lag limit when the ceiling is tiny or zero (no coalescing): a viewer's write waits this long. */
export const MIN_LIMIT_MS = 50;
/** Weight of a new tick's lag in the smoothed lag (about the last 4 ticks count). */
export const SMOOTHING = 0.25;
/** Admit again once the smoothed lag is under this share of the limit (hysteresis: no flapping): 2C, a tick of half the interval. */
export const RECOVER_SHARE = 2 / 3;
/** Seconds a refused viewer is told to wait (Retry-After). */
export const RETRY_AFTER_S = 2;

/** The lag limit: the override when set (> 0), else three times the coalescing ceiling, at least MIN_LIMIT_MS. */
export function flushLagLimitMs(ceilingMs: number, overrideMs = 0): number {
  if (overrideMs > 0) return overrideMs;
  return Math.max(MIN_LIMIT_MS, 3 * ceilingMs);
}

export class OverloadGuard {
  private smoothed = 0;
  private overloaded = false;
  private lastSampleAt = -Infinity;
  /** Viewers refused while overloaded, by protocol (metrics). */
  readonly refusals: Record<string, number> = {};

  constructor(readonly limitMs: number) {}

  /** A write tick finished `lagMs` after its first viewer had data waiting, at `nowMs`. */
  recordLag(lagMs: number, nowMs: number): void {
    if (!(lagMs >= 0)) return;
    this.smoothed = this.lastSampleAt === -Infinity ? lagMs : this.smoothed + SMOOTHING * (lagMs - this.smoothed);
    this.lastSampleAt = nowMs;
    if (this.smoothed > this.limitMs) this.overloaded = true;
    else if (this.smoothed < RECOVER_SHARE * this.limitMs) this.overloaded = false;
  }

  /** The smoothed flush lag (ms), for metrics. */
  get lagMs(): number {
    return this.smoothed;
  }

  /**
   * True while the engine is behind. `waitingSinceMs` (the scheduler's oldest unwritten data) makes
   * a live reading: data waiting longer than the limit right now is overload even when no tick has
   * reported (an event loop too busy to run ticks reports nothing). No tick for 4 limits (and at
   * least a second) with nothing waiting clears it: the audience left, nothing is queued any more.
   */
  isOverloaded(nowMs: number, waitingSinceMs?: number): boolean {
    if (waitingSinceMs !== undefined && nowMs - waitingSinceMs > this.limitMs) {
      this.overloaded = true;
      return true;
    }
    if (this.overloaded && waitingSinceMs === undefined && nowMs - this.lastSampleAt > Math.max(1000, 4 * this.limitMs)) {
      this.overloaded = false;
      this.smoothed = 0;
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
