/**
 * How long the flush scheduler waits before writing the viewers that have queued data (pure: the
 * scheduler measures, this decides; unit-tested in flush-policy.test.ts).
 *
 * Coalescing exists to save the fixed cost of a write (a syscall, on loopback the receiver's TCP
 * work too, libuv's request): ~5 us per viewer and write. Waiting buys nothing else, and costs
 * latency. So the policy spends at most a fixed share of the time (BUSY_SHARE) on writing ticks:
 * after a tick that took W ms of work, the next one starts W * (1 - BUSY_SHARE) / BUSY_SHARE ms
 * after it ended. The work of the next tick is predicted from the viewers waiting for it and the
 * measured cost per viewer of the last ticks, so a room that just grew backs off at once.
 *
 * What this gives: one viewer (W ~ 0.01 ms) is written at once, as nginx-rtmp does; tens of viewers
 * wait a few ms; thousands wait the ceiling (ONAIR_FLUSH_INTERVAL), as before this policy. The cost
 * per viewer is measured, so a loaded or slower machine coalesces more on its own, and the bytes
 * the tick writes count as work: the busier the process, the more it coalesces.
 *
 * Bytes: a viewer whose queue already holds about a full write (FULL_WRITE_BYTES, a keyframe at
 * 2 Mb/s) gains little by waiting for more, so the wait shrinks as the queued bytes per viewer grow.
 * Time: the wait counts from the end of the last tick, so data after a quiet spell goes out at once.
 */

/** The share of the time writing ticks may take before the scheduler coalesces more (no knob). */
export const BUSY_SHARE = 0.15;
/** Queued bytes per viewer at which waiting for more gains nothing: one write is already large. */
export const FULL_WRITE_BYTES = 64 * 1024;
/** Cost of flushing one viewer assumed before the first tick was measured (ms). */
export const PRIOR_COST_PER_VIEWER_MS = 0.01;
/** Weight of the newest tick in the running cost per viewer. */
const COST_WEIGHT = 0.2;
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

  /** `ceilingMs`: the longest wait (ONAIR_FLUSH_INTERVAL); also the wait once the process is busy. */
  constructor(readonly ceilingMs: number) {}

  /** The scheduler wrote a tick: `viewers` flushed in `workMs` of work (its slices, not the gaps between). */
  recordTick(viewers: number, workMs: number): void {
    if (viewers <= 0 || !(workMs >= 0)) return;
    this.costPerViewerMs += COST_WEIGHT * (workMs / viewers - this.costPerViewerMs);
  }

  /** The measured cost of flushing one viewer (ms), for metrics and tests. */
  get costPerViewer(): number {
    return this.costPerViewerMs;
  }

  /** Milliseconds to wait before writing the waiting viewers: 0 means now. Never above the ceiling. */
  waitMs(w: FlushWork): number {
    if (w.dirtyViewers <= 0) return 0;
    const workMs = w.dirtyViewers * this.costPerViewerMs;
    const spacingMs = (workMs * (1 - BUSY_SHARE)) / BUSY_SHARE;
    const full = Math.min(1, w.queuedBytes / w.dirtyViewers / FULL_WRITE_BYTES);
    const gapMs = Math.min(this.ceilingMs, spacingMs) * (1 - full);
    const wait = gapMs - Math.max(0, w.sinceLastTickMs);
    return wait < MIN_WAIT_MS ? 0 : Math.min(this.ceilingMs, wait);
  }
}
