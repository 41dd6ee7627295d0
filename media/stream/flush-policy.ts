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
    if (w.dirtyViewers <= 0) return 0;
    const fixedMs = w.dirtyViewers * this.costPerViewerMs;
    const spacingMs = fixedMs / BUSY_SHARE - fixedMs;
    const full = Math.min(1, w.queuedBytes / w.dirtyViewers / FULL_WRITE_BYTES);
    const gapMs = Math.min(this.ceilingMs, spacingMs) * (1 - full);
    const wait = gapMs - Math.max(0, w.sinceLastTickMs);
    return wait < MIN_WAIT_MS ? 0 : Math.min(this.ceilingMs, wait);
  }
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
