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
 * 2 Mb/s) gains little by waiting for more, so the budget's wait shrinks as the queued bytes per
 * viewer grow, before the ceiling caps it. A room far past its budget (thousands of viewers) stays at
 * the ceiling: there a tick's own writes take tens of ms, each viewer queues that much stream
 * meanwhile, and shortening the ceiling by it made a busier core write more often (on the fake clock,
 * +18 % writes at 4,800 viewers and 18 us a write; docs/benchmarks.md, "The tick rate at 4,800
 * viewers": in a quiet A/B at 4,800 viewers less server CPU in 6 pairs of 6, more viewers healthy in 5).
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
   * ceiling (thousands of viewers) there is no room to make up for a tick moved early: such a tick
   * costs up to half a frame interval of the period, ~+4-15 % ticks at 30 fps. No frame interval
   * (audio only, or no stream holding most of the waiting viewers): no window.
   *
   * With a frame interval, a budget that writes a bit under or over half of the video frames at
   * their fan-out (MEDIAN_RATE / MEDIAN_BOOST_MAX up to MEDIAN_RATE ticks per frame) is raised to
   * MEDIAN_RATE: see there.
   */
  plan(w: FlushWork, carryMs = 0, frameIntervalMs = 0): TickPlan {
    if (w.dirtyViewers <= 0) return NOW;
    const fixedMs = w.dirtyViewers * this.costPerViewerMs;
    let spacingMs = fixedMs / BUSY_SHARE - fixedMs;
    const frames = frameIntervalMs > 0 && Number.isFinite(frameIntervalMs);
    if (frames) {
      // A tick's period is its gap plus its own writes (the gap counts from their end).
      const rate = frameIntervalMs / (spacingMs + fixedMs);
      if (rate >= MEDIAN_RATE / MEDIAN_BOOST_MAX && rate < MEDIAN_RATE) spacingMs = Math.max(0, frameIntervalMs / MEDIAN_RATE - fixedMs);
    }
    const full = Math.min(1, w.queuedBytes / w.dirtyViewers / FULL_WRITE_BYTES);
    const gapMs = Math.min(this.ceilingMs, spacingMs * (1 - full));
    const since = Math.max(0, w.sinceLastTickMs);
    if (gapMs - since < MIN_WAIT_MS) return NOW; // a small room, a full write, or after a quiet spell: now, no alignment
    const room = this.ceilingMs - gapMs;
    const carry = Number.isFinite(carryMs) ? Math.max(-gapMs, Math.min(room, carryMs)) : 0;
    const dueMs = gapMs + carry; // from the end of the last tick
    const wait = dueMs - since;
    let earlyMs = 0;
    let lateMs = 0;
    if (frames) {
      const half = Math.min(frameIntervalMs / 2, gapMs / 2);
      lateMs = Math.max(0, Math.min(half, this.ceilingMs - dueMs));
      earlyMs = half;
    }
    return { waitMs: wait < MIN_WAIT_MS ? 0 : Math.min(this.ceilingMs, wait), earlyMs, lateMs };
  }
}

/**
 * Ticks per video frame that write most of the frames at their fan-out: 3 ticks per 5 frames.
 *
 * With ticks at frames' fan-outs (FrameAlign), a frame waits a whole number of frame intervals, and
 * with r ticks per frame (spread evenly) a share r of the frames waits none. So the median frame
 * waits nothing when r > 1/2 and one frame interval (~33 ms at 30 fps) when 1/4 < r <= 1/2: a cliff
 * at 1/2. The budget (BUSY_SHARE) puts 400 viewers at 7-9 us per write right on it (r ~0.45-0.55),
 * where the median is a coin flip between ~5 and ~38 ms. 0.6 leaves a margin over 1/2 (the pattern
 * of gaps is 2, 2, 1 frames) at 0.6 x 30 = 18 writes per viewer and second.
 */
export const MEDIAN_RATE = 0.6;
/**
 * The most extra ticks MEDIAN_RATE may cost over the budget's rate: x2.5, i.e. budgets from 0.24 ticks
 * per frame up (at 8 us a write: rooms up to ~850 viewers; the 100 ms ceiling is 0.33 ticks per frame,
 * so in effect at most x1.8 over what the engine writes without it). Past that (thousands of viewers)
 * the budget decides and the median frame waits a tick.
 *
 * A product choice between the two goals of issue 15, made on a quiet A/B (docs/benchmarks.md, "A
 * latency for rooms of hundreds"): at 400 viewers x2.5 gave a median of 3-5 ms and p95 40 ms against
 * 33-38 / 72 ms with x1.3 (the budget sat at ~0.4 ticks per frame there, under x1.3's window), for
 * +11-16 % of the server's CPU at that step (~+2 % of a core). A few hundred viewers cost little in
 * absolute terms and see the latency; the large rooms, where CPU is the limit, are untouched.
 */
export const MEDIAN_BOOST_MAX = 2.5;

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
 * it cannot be: there it costs up to half a frame of the period (FlushPolicy.plan).
 *
 * The frame interval is measured from the leading frames' timestamps (the publisher's clock, not
 * the arrival times the event loop jitters): the typical one of the recent gaps (GAPS); none until
 * two have been seen.
 */
export class FrameAlign {
  private intervalMs = 0;
  private lastTs = -1;
  private lastAt = -Infinity;
  /** The last GAPS gaps between two leading frames (ms), a ring. */
  private readonly gaps: number[] = [];
  private nextGap = 0;

  /**
   * A video frame was fanned out to `frameViewers` of the `waitingViewers` waiting for the next
   * tick, at `nowMs`. True when it leads: it went to most of them.
   */
  frame(frameViewers: number, waitingViewers: number, timestamp: number, nowMs: number): boolean {
    if (!(frameViewers > 0) || !(frameViewers * 2 > waitingViewers)) return false;
    const dt = (timestamp - this.lastTs) | 0; // 32-bit wrap-safe
    if (this.lastTs >= 0 && dt > 0 && dt <= MAX_FRAME_INTERVAL_MS) {
      if (this.gaps.length < GAPS) this.gaps.push(dt);
      else this.gaps[this.nextGap] = dt;
      this.nextGap = (this.nextGap + 1) % GAPS;
      this.intervalMs = typicalGap(this.gaps);
    }
    this.lastTs = timestamp;
    this.lastAt = nowMs;
    return true;
  }

  /** The leading stream's frame interval (ms), or 0 when none led for a couple of intervals (ticks then go by the timer). */
  frameIntervalMs(nowMs: number): number {
    if (this.intervalMs <= 0 || nowMs - this.lastAt > 2 * this.intervalMs + MAX_FRAME_INTERVAL_MS / 4) return 0;
    return this.intervalMs;
  }
}

/** Longer gaps between two leading frames are not a frame interval (a pause, 4 fps and under). */
const MAX_FRAME_INTERVAL_MS = 250;
/**
 * Gaps the frame interval is taken from. Nothing in a packet says which stream it belongs to (seqs
 * count per stream), so the leading frames of two streams that lead in turn give gaps of two
 * unrelated clocks: the typical gap of the last 9 (typicalGap) ignores them while they are under
 * half of the gaps, as it ignores a dropped frame's double gap.
 */
const GAPS = 9;

/**
 * The mean of the gaps within 10 % of their median: the median alone would be a whole ms (30 fps
 * stamps its frames 33 and 34 ms apart), the mean alone would count the odd gaps.
 */
function typicalGap(xs: readonly number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  const median = s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
  let sum = 0;
  let n = 0;
  for (const x of s) {
    if (Math.abs(x - median) <= 0.1 * median) {
      sum += x;
      n++;
    }
  }
  return sum / n;
}

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
