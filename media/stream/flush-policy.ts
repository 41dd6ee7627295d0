/**
 * How long the flush scheduler waits before writing the viewers that have queued data (pure: the
 * scheduler measures, this decides; unit-tested in flush-policy.test.ts).
 *
 * Coalescing exists to save the fixed cost of a write (a syscall, on loopback the receiver's TCP
 * work too, libuv's request): ~5 us per viewer and write. The bytes cost the same however they are
 * grouped, and waiting costs latency. So the policy spends at most a fixed share of the time
 * (BUSY_SHARE) on the fixed costs of writes: the next tick starts when the writes of the viewers
 * waiting for it, at the measured fixed cost per viewer, would take that share of the time since
 * the last tick ended. A room that just grew backs off at once (the count of waiting viewers is
 * known); one viewer (~0.005 ms) is written at once, as nginx-rtmp does; tens of viewers wait a
 * ms or less; thousands wait the ceiling (ONAIR_FLUSH_INTERVAL), as before this policy.
 *
 * The fixed cost per viewer is measured, not assumed: every tick reports its viewers, bytes and
 * work, and a least-squares fit over the recent ticks (forgetting old ones) splits the work into a
 * cost per viewer and a cost per byte. When the ticks do not tell the two apart (every tick alike),
 * all of the work counts as fixed cost, which only coalesces more. The scheduler measures CPU time,
 * not wall time, so other processes do not inflate it; a slower machine measures dearer writes and
 * so coalesces more, on its own.
 *
 * Bytes: a viewer whose queue already holds about a full write (FULL_WRITE_BYTES, a keyframe at
 * 2 Mb/s) gains little by waiting for more, so the wait shrinks as the queued bytes per viewer grow.
 * Time: the wait counts from the end of the last tick, so data after a quiet spell goes out at once.
 */

/**
 * The share of the time the fixed costs of writes may take before the scheduler coalesces more (no
 * knob). The measured cost leaves out the writes' completions (they run outside the tick), about as
 * much again: 0.15 cost 2-2.5x the CPU of the fixed tick at 400-1600 viewers in bench:media
 * (docs/benchmarks.md), so 0.05, which keeps ~1000 viewers and more at the ceiling, as before.
 */
export const BUSY_SHARE = 0.05;
/** Queued bytes per viewer at which waiting for more gains nothing: one write is already large. */
export const FULL_WRITE_BYTES = 64 * 1024;
/** Fixed cost of writing one viewer assumed before the first tick was measured (ms). */
export const PRIOR_COST_PER_VIEWER_MS = 0.01;
/** Weight kept by the past at each new tick in the fit (~20 ticks of memory). */
const KEEP = 0.95;
/** Below this, the ticks' bytes per viewer vary too little to split the work (1 - correlation^2 of viewers and bytes). */
const MIN_SPREAD = 0.02;
/** Waits shorter than this are not worth a timer (its resolution is 1 ms): write now. */
export const MIN_WAIT_MS = 1;

export interface FlushWork {
  /** Viewers with queued data waiting for the next tick. */
  dirtyViewers: number;
  /** Bytes those viewers queued since the last tick began. */
  queuedBytes: number;
  /** Time since the last tick finished writing (Infinity before the first). */
  sinceLastTickMs: number;
}

export class FlushPolicy {
  private costPerViewerMs = PRIOR_COST_PER_VIEWER_MS;
  private costPerByteMs = 0;
  /** Decayed sums of the least-squares fit work = a * viewers + b * bytes. */
  private snn = 0;
  private snb = 0;
  private sbb = 0;
  private snw = 0;
  private sbw = 0;

  /** `ceilingMs`: the longest wait (ONAIR_FLUSH_INTERVAL); also the wait once the process is busy. */
  constructor(readonly ceilingMs: number) {}

  /** The scheduler wrote a tick: `viewers` flushed, `bytes` written, in `workMs` of work (its slices, not the gaps between). */
  recordTick(viewers: number, bytes: number, workMs: number): void {
    if (viewers <= 0 || !(workMs >= 0) || !(bytes >= 0)) return;
    const n = viewers;
    this.snn = KEEP * this.snn + n * n;
    this.snb = KEEP * this.snb + n * bytes;
    this.sbb = KEEP * this.sbb + bytes * bytes;
    this.snw = KEEP * this.snw + n * workMs;
    this.sbw = KEEP * this.sbw + bytes * workMs;
    const det = this.snn * this.sbb - this.snb * this.snb;
    if (this.sbb > 0 && det > MIN_SPREAD * this.snn * this.sbb) {
      const a = (this.snw * this.sbb - this.sbw * this.snb) / det;
      const b = (this.snn * this.sbw - this.snb * this.snw) / det;
      if (a > 0 && b >= 0) {
        this.costPerViewerMs = a;
        this.costPerByteMs = b;
        return;
      }
    }
    // Not separable (or a fit that makes no physical sense): all of the work is fixed cost.
    this.costPerViewerMs = this.snw / this.snn;
    this.costPerByteMs = 0;
  }

  /** The measured fixed cost of writing one viewer (ms), for metrics and tests. */
  get costPerViewer(): number {
    return this.costPerViewerMs;
  }

  /** The measured cost per byte written (ms; 0 until the ticks tell it apart), for tests. */
  get costPerByte(): number {
    return this.costPerByteMs;
  }

  /** Milliseconds to wait before writing the waiting viewers: 0 means now. Never above the ceiling. */
  waitMs(w: FlushWork): number {
    return this.plan(w).waitMs;
  }

  /**
   * When the next tick is due (waitMs from now) and how far a leading video frame's fan-out may
   * move it (earlyMs before, lateMs after; see FrameAlign). `carryMs`: how much earlier than its due
   * time the last tick started (negative: later); this one is due that much later, so that moving
   * ticks to frames keeps the policy's rate of ticks (a tick moved half a frame early is followed by
   * one due half a frame later). No tick comes later than the ceiling after the last one, so at the
   * ceiling (thousands of viewers) there is no room to make up for an early tick: there a tick moves
   * at most ALIGN_EARLY_AT_CEILING of a frame interval early, which costs that many more ticks. No
   * frame interval (audio only, or no stream holding most of the waiting viewers): no window.
   */
  plan(w: FlushWork, carryMs = 0, frameIntervalMs = 0): TickPlan {
    if (w.dirtyViewers <= 0) return NOW;
    const fixedMs = w.dirtyViewers * this.costPerViewerMs;
    const spacingMs = fixedMs / BUSY_SHARE - fixedMs;
    const full = Math.min(1, w.queuedBytes / w.dirtyViewers / FULL_WRITE_BYTES);
    const gapMs = Math.min(this.ceilingMs, spacingMs) * (1 - full);
    const since = Math.max(0, w.sinceLastTickMs);
    if (gapMs - since < MIN_WAIT_MS) return NOW; // a small room, a full write, or after a quiet spell: now, no alignment
    const room = this.ceilingMs - gapMs;
    const carry = Number.isFinite(carryMs) ? Math.max(-gapMs, Math.min(room, carryMs)) : 0;
    const dueMs = gapMs + carry; // from the end of the last tick
    const wait = dueMs - since;
    let earlyMs = 0;
    let lateMs = 0;
    if (frameIntervalMs > 0 && Number.isFinite(frameIntervalMs)) {
      const half = Math.min(frameIntervalMs / 2, gapMs / 2);
      lateMs = Math.max(0, Math.min(half, this.ceilingMs - dueMs));
      earlyMs = Math.max(0, Math.min(half, Math.max(room, frameIntervalMs * ALIGN_EARLY_AT_CEILING)));
    }
    return { waitMs: wait < MIN_WAIT_MS ? 0 : Math.min(this.ceilingMs, wait), earlyMs, lateMs };
  }
}

/**
 * How far (in frame intervals) a tick at the ceiling may move early to a video frame, though no
 * later tick can make up for it: 0.5 (half a frame, as below the ceiling) costs at most half a frame
 * in (ceiling + a tick's work) more ticks, ~+4-15 % at 30 fps, for frames that wait whole frame
 * intervals (0, 33, 66 ms instead of a random 0-100 ms); 0 keeps the ceiling's ticks as they were.
 */
export const ALIGN_EARLY_AT_CEILING = 0.5;

export interface TickPlan {
  /** Milliseconds from now until the tick is due (0: now). */
  waitMs: number;
  /** A leading video frame's fan-out this long before the due time starts the tick (0: none). */
  earlyMs: number;
  /** Or this long after it; the timer (the fallback) fires then. */
  lateMs: number;
}

const NOW: TickPlan = { waitMs: 0, earlyMs: 0, lateMs: 0 };

/**
 * Aligning ticks to video frames (pure; the scheduler feeds it every video frame's fan-out).
 *
 * A tick at a random moment of its period P makes a frame wait P/2 on median. A tick that starts
 * right after a video frame's fan-out writes that frame at once: with P two frame intervals, half of
 * the frames wait nothing and half one interval; with P three (the fixed 100 ms tick at 30 fps),
 * they wait 0, 1 or 2 intervals (median 33 ms instead of 50). So the tick, once within half a frame
 * interval of its due time (before or after; FlushPolicy.plan), starts at the fan-out of the next
 * video frame, the timer staying the fallback. The policy's carry keeps the rate of ticks.
 *
 * One scheduler serves every stream of the process, and frames of different streams come at
 * different phases: a tick can follow only one of them. It follows a frame only when that frame
 * went to most (over half) of the viewers waiting for the tick: one large audience among small ones
 * is aligned, and streams of alike audiences (none holds a majority) are not, as before. Were any
 * stream's frame to start a due tick, the earliest of many phases would always win, and ticks would
 * come half a frame early for no one's gain. Audio frames never align (audio-only streams: as
 * before); sequence headers and the start-up bursts of new viewers (urgent) neither.
 *
 * Below the ceiling a tick moved early is made up for by the next one (the carry); at the ceiling
 * it cannot be (ALIGN_EARLY_AT_CEILING).
 *
 * The frame interval is measured from the leading stream's frames' timestamps (the publisher's
 * clock, not the arrival times the event loop jitters), smoothed; none until two have been seen.
 */
export class FrameAlign {
  private intervalMs = 0;
  private lastTs = -1;
  private lastSeq = -1;
  private lastAt = -Infinity;

  /**
   * A video frame was fanned out to `frameViewers` of the `waitingViewers` waiting for the next
   * tick, at `nowMs`. True when it leads: it went to most of them.
   */
  frame(frameViewers: number, waitingViewers: number, timestamp: number, seq: number, nowMs: number): boolean {
    if (!(frameViewers > 0) || !(frameViewers * 2 > waitingViewers)) return false;
    const dt = (timestamp - this.lastTs) | 0; // 32-bit wrap-safe
    // Frames of one stream are a few seqs apart (its audio in between); another stream's are not.
    if (this.lastTs >= 0 && seq > this.lastSeq && seq - this.lastSeq <= MAX_SEQ_GAP && dt > 0 && dt <= MAX_FRAME_INTERVAL_MS) {
      this.intervalMs = this.intervalMs > 0 ? this.intervalMs + FRAME_SMOOTHING * (dt - this.intervalMs) : dt;
    }
    this.lastTs = timestamp;
    this.lastSeq = seq;
    this.lastAt = nowMs;
    return true;
  }

  /** The leading stream's frame interval (ms), or 0 when none led for a couple of intervals (ticks then go by the timer). */
  frameIntervalMs(nowMs: number): number {
    if (this.intervalMs <= 0 || nowMs - this.lastAt > 2 * this.intervalMs + MAX_FRAME_INTERVAL_MS / 4) return 0;
    return this.intervalMs;
  }
}

/** Longer gaps between two leading frames are not a frame interval (a pause, another stream, 4 fps and under). */
const MAX_FRAME_INTERVAL_MS = 250;
/** More packets than this between two leading frames: not the same stream's consecutive frames. */
const MAX_SEQ_GAP = 32;
/** Weight of a new frame gap in the smoothed interval. */
const FRAME_SMOOTHING = 0.2;

/**
 * Whether the fan-out of a leading video frame (FrameAlign.frame) at `untilDueMs` before the
 * tick's due time (negative: after it) starts the tick now.
 */
export function alignNow(untilDueMs: number, plan: Pick<TickPlan, 'earlyMs' | 'lateMs'>): boolean {
  return (plan.earlyMs > 0 || plan.lateMs > 0) && untilDueMs <= plan.earlyMs && untilDueMs >= -plan.lateMs;
}

/** Fractional part of the golden ratio: successive multiples of it, mod 1, cover [0, 1) evenly. */
const GOLDEN = 0.6180339887498949;

/**
 * Where the writes of tick number `tick`, of `viewers` viewers, start (an index into the tick's
 * viewers in the order they got their data, i.e. the order they joined; the writes wrap round from
 * the end to the start). A tick's writes take a while: ~5-12 us per viewer, tens of ms at thousands
 * of viewers, in slices between turns of the event loop. Starting every tick at the first viewer
 * made the viewers who joined last wait for all of that work at every tick (the bench's latency
 * probes join last: they measured that worst place). Starting each tick at another place (golden
 * ratio steps, so every place comes round evenly and no two close ticks start close together)
 * gives every viewer the same wait on average, half the tick's work, for the same work.
 */
export function tickStart(tick: number, viewers: number): number {
  if (!(viewers > 1) || !Number.isFinite(tick) || tick < 0) return 0;
  const f = (tick * GOLDEN) % 1;
  return Math.min(viewers - 1, Math.floor(f * viewers));
}
