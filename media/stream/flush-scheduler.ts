import { performance } from 'node:perf_hooks';
import type { MediaPacket } from './media-packet.js';
import { alignNow, FlushPolicy, FrameAlign, tickStart } from './flush-policy.js';

/**
 * Coalesces viewer writes: a viewer queues its packets and registers here when it gets the first
 * of a batch; one tick for the whole process writes every dirty viewer, so each viewer's packets
 * of that interval leave in one write. One timer and one Set, whatever the viewer count.
 * A new viewer's start-up burst goes out at once (setImmediate), without flushing the others early.
 *
 * When the next tick starts is decided once the fan-out of the packet that made the first viewer
 * dirty is done (one setImmediate later, when every viewer of it is in the Set), by FlushPolicy,
 * from the viewers waiting, the bytes they queued, the time since the last tick and the measured
 * cost of writing a viewer: a few viewers are written almost at once, thousands wait up to the
 * interval (the ceiling, ONAIR_FLUSH_INTERVAL), as they always did.
 *
 * A tick is written in slices of SLICE viewers, yielding to the event loop in between: at 3200
 * viewers a tick is ~40 ms of work, and a viewer arriving meanwhile would otherwise wait for all of
 * it before its request is even read (time to first frame grew with the audience, to ~40 ms).
 *
 * A tick does not always start with the same viewer (tickStart): the viewers that joined last
 * would otherwise be written last at every tick, waiting for all of its work each time.
 *
 * A tick within half a frame interval of its due time starts at the fan-out of the next video frame
 * that went to most of the waiting viewers, the timer being the fallback (FrameAlign: that frame
 * then waits for no tick; the rate of ticks stays the policy's). Viewers report each video frame
 * they queue (frameQueued); a frame's fan-out is over when another packet's starts or the turn of
 * the event loop ends.
 *
 * Shared batches: viewers that keep up with a stream all queue the same packets in an interval, so
 * during a tick the scheduler joins such a run once into one buffer, and every viewer with that run
 * writes that single buffer (sharedBatch). Per viewer and interval that is one write instead of a
 * writev of ~8 parts, with far less garbage per viewer (write requests, chunk lists) to collect.
 *
 * Groups: the viewers that follow a stream's shared run (SharedRun) are not scheduled one by one per
 * packet; the run is (scheduleGroup, once per packet), and a tick flushes each of its followers once.
 * They count as waiting viewers for the policy and FrameAlign; the run reports their bytes and video
 * frames (frameQueued with their count).
 */
export interface Flushable {
  flush(): void;
}

/**
 * Viewers marked dirty together, once per packet rather than once per viewer (a stream's shared run:
 * SharedRun). A tick flushes each member once, as if each had been scheduled; the policy and
 * FrameAlign count the members as waiting viewers.
 */
export interface FlushGroup {
  /** Members now (the viewers the group would flush). */
  readonly size: number;
  members(): Iterable<Flushable>;
}

/** The encoded bytes of a run of packets: `parts` while one viewer has it, `joined` once shared. */
interface Batch {
  encode: (p: MediaPacket) => Buffer;
  last: MediaPacket;
  parts: Buffer[] | undefined;
  joined: Buffer | undefined;
  /** Another run from the same first packet (another protocol's encoding, or a longer run). */
  next: Batch | undefined;
}

/** Viewers flushed between two turns of the event loop (under 1 ms of work). */
const SLICE = 64;

/**
 * The clock and timers the scheduler runs on: the process's (performance.now(), its CPU time, Node's
 * timers) unless a test passes a fake one, which lets the tests drive the real scheduler's decisions
 * over seconds of a stream without waiting for them.
 */
export interface SchedulerClock {
  /** Monotonic wall time, ms (performance.now() in production). */
  now(): number;
  /** The process's CPU time so far (user + system), ms. */
  cpuMs(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  setImmediate(fn: () => void): unknown;
  clearImmediate(handle: unknown): void;
}

const processClock: SchedulerClock = {
  now: () => performance.now(),
  cpuMs: () => {
    const c = process.cpuUsage();
    return (c.user + c.system) / 1000;
  },
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout | undefined),
  setImmediate: (fn) => setImmediate(fn),
  clearImmediate: (h) => clearImmediate(h as NodeJS.Immediate | undefined),
};

export class FlushScheduler {
  private dirty = new Set<Flushable>();
  /** Groups marked dirty since the last tick began: their members are flushed as if each were in `dirty`. */
  private groups = new Set<FlushGroup>();
  private urgent = new Set<Flushable>();
  private timer: unknown;
  private immediate: unknown;
  /** The tick being written, slice by slice, from due[start] round to due[start - 1]: the `next` first of those are flushed. */
  private due: Flushable[] = [];
  private start = 0;
  private next = 0;
  private sliceImmediate: unknown;
  /** Runs seen in the current tick, by first packet; emptied when a tick starts and ends. */
  private readonly batches = new Map<MediaPacket, Batch>();
  private inTick = false;
  private readonly policy: FlushPolicy;
  /** Pending decision of when to write the dirty viewers (see decide). */
  private deciding: unknown;
  /** Bytes queued since the current (or last) tick began, by every viewer. */
  private queuedBytes = 0;
  /** this.clock.now() when the last tick finished writing. */
  private lastTickEnd = -Infinity;
  /** Work (ms) and bytes of the tick being written, for the policy's costs. */
  private tickWorkMs = 0;
  private tickBytes = 0;
  /** this.clock.now() when the first viewer waiting for the next tick (or urgent run) got its data. */
  private dirtySince: number | undefined;
  private tickDirtySince = 0;
  private urgentSince: number | undefined;
  /** Ms the event loop spent writing start-up bursts so far, and its value when the waiting data began (see onLag). */
  private startupWorkMs = 0;
  private startupAtDirty = 0;
  private tickStartupAt = 0;
  /** Ticks written so far (metrics). */
  ticks = 0;
  /** CPU ms (process user + system) the ticks' writes took so far: the steady audience's fan-out work. */
  workMs = 0;
  /** Ticks started at a video frame's fan-out rather than by the timer or at once (metrics, tests). */
  alignedTicks = 0;
  private readonly align = new FrameAlign();
  /** this.clock.now() when the armed timer's tick is due, and how far a leading frame may move it. */
  private dueAt = 0;
  private window = { earlyMs: 0, lateMs: 0 };
  /** How much earlier than its due time the last tick started (see FlushPolicy.plan). */
  private carryMs = 0;
  /** The video frame whose fan-out is under way, and the viewers that queued it so far. */
  private frame: MediaPacket | undefined;
  private frameViewers = 0;
  private frameEnd: unknown;

  /**
   * `onLag`: called after every tick with its flush lag (ms from the moment its first viewer had
   * data waiting to the end of its writes; with no coalescing, of every urgent run), which the
   * engine's OverloadGuard turns into admission decisions, and `startupMs`, the time spent
   * meanwhile writing new viewers' start-up bursts (a join ramp's share of that lag).
   */
  constructor(
    private readonly intervalMs: number,
    private readonly onLag?: (lagMs: number, nowMs: number, startupMs: number) => void,
    private readonly clock: SchedulerClock = processClock,
  ) {
    this.policy = new FlushPolicy(intervalMs);
  }

  /** Flush at the next tick (FlushPolicy decides when, at most the interval away). */
  schedule(f: Flushable): void {
    if (this.intervalMs <= 0) {
      this.scheduleNow(f); // no coalescing: every flush is urgent
      return;
    }
    this.markDirty();
    this.dirty.add(f);
    // While a tick is still being written the next one is decided when it ends (runSlice), as it
    // was when a tick was written in one go: deciding earlier would shorten the interval under
    // load and cost more writes per viewer.
    if (!this.timer && !this.deciding && this.due.length === 0) this.deciding = this.clock.setImmediate(this.decide);
  }

  /**
   * Flush every member of `g` at the next tick (one call per packet for all of them). The caller
   * reports their bytes (queued) and video frames (frameQueued with their count) as the viewers would.
   */
  scheduleGroup(g: FlushGroup): void {
    if (this.intervalMs <= 0) {
      for (const f of g.members()) this.scheduleNow(f);
      return;
    }
    this.markDirty();
    this.groups.add(g);
    if (!this.timer && !this.deciding && this.due.length === 0) this.deciding = this.clock.setImmediate(this.decide);
  }

  private markDirty(): void {
    if (this.dirty.size === 0 && this.groups.size === 0 && this.dirtySince === undefined) {
      this.dirtySince = this.clock.now();
      this.startupAtDirty = this.startupWorkMs;
    }
  }

  /** Viewers waiting for the next tick: the dirty ones and the members of dirty groups (a viewer in both counts twice: rare). */
  private waitingViewers(): number {
    let n = this.dirty.size;
    for (const g of this.groups) n += g.size;
    return n;
  }

  /** Moves the dirty viewers and the members of dirty groups (each once) to `out`, and forgets them. */
  private takeDirty(out: Flushable[]): void {
    const dirty = this.dirty;
    for (const f of dirty) out.push(f);
    for (const g of this.groups) for (const f of g.members()) if (!dirty.has(f)) out.push(f);
    this.dirty = new Set();
    this.groups = new Set();
  }

  /** A viewer queued `bytes` more (the policy weighs how full the writes already are). */
  queued(bytes: number): void {
    this.queuedBytes += bytes;
  }

  /**
   * A viewer queued the video frame `p` (not a sequence header, nor a new viewer's start-up burst):
   * the viewers of one stream queue it one after the other, in one fan-out.
   */
  frameQueued(p: MediaPacket, viewers = 1): void {
    if (this.intervalMs <= 0) return;
    if (p === this.frame) {
      this.frameViewers += viewers;
      return;
    }
    this.endFrame();
    this.frame = p;
    this.frameViewers = viewers;
    this.frameEnd ??= this.clock.setImmediate(this.frameFannedOut);
  }

  /** The fan-out of the current frame is over: a leading frame within the window of the armed tick's due time starts it. */
  private endFrame(): void {
    const p = this.frame;
    if (p === undefined) return;
    this.frame = undefined;
    const now = this.clock.now();
    if (!this.align.frame(this.frameViewers, this.waitingViewers(), p.timestamp, now)) return;
    // Only a tick armed on the timer moves; one being written decides the next when it ends.
    if (this.timer !== undefined && this.due.length === 0 && alignNow(this.dueAt - now, this.window)) this.alignDue = true;
  }

  /** A leading frame's fan-out asked for the armed tick; it starts once this turn's I/O is done (the frame's audio goes in too). */
  private alignDue = false;

  private readonly frameFannedOut = (): void => {
    this.frameEnd = undefined;
    this.endFrame();
    if (!this.alignDue) return;
    this.alignDue = false;
    if (this.timer === undefined || this.due.length > 0) return;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.alignedTicks++;
    this.carryMs = this.lateness();
    this.runDirty();
  };

  /** The measured fixed cost of writing one viewer in a tick (ms). */
  get costPerViewerMs(): number {
    return this.policy.costPerViewer;
  }

  /** Starts the next tick now or arms the timer for it, as FlushPolicy says. */
  private readonly decide = (): void => {
    this.deciding = undefined;
    if (this.timer || this.due.length > 0) return;
    const waiting = this.waitingViewers();
    if (waiting === 0) {
      // Only groups whose members all left since: nothing waits.
      this.groups.clear();
      if (this.dirty.size === 0) this.dirtySince = undefined;
      return;
    }
    const now = this.clock.now();
    const work = { dirtyViewers: waiting, queuedBytes: this.queuedBytes, sinceLastTickMs: now - this.lastTickEnd };
    const plan = this.policy.plan(work, this.carryMs, this.align.frameIntervalMs(now));
    this.carryMs = 0;
    if (plan.waitMs <= 0) {
      this.runDirty();
      return;
    }
    this.dueAt = now + plan.waitMs;
    this.window = plan;
    this.timer = this.clock.setTimeout(this.onTimer, plan.waitMs + plan.lateMs);
  };

  /** No leading frame came within the window (or no window): the tick starts now. */
  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.carryMs = this.lateness();
    this.runDirty();
  };

  /**
   * How much earlier than due the tick starts (negative: later), within the window: a timer or
   * turn that comes late because the event loop was busy is not made up for by writing sooner.
   */
  private lateness(): number {
    return Math.max(-this.window.lateMs, Math.min(this.window.earlyMs, this.dueAt - this.clock.now()));
  }

  /** Flush as soon as the current I/O callbacks are done (a new viewer's start-up burst). */
  scheduleNow(f: Flushable): void {
    if (this.urgent.size === 0) this.urgentSince ??= this.clock.now();
    this.urgent.add(f);
    this.immediate ??= this.clock.setImmediate(this.runUrgent);
  }

  /**
   * During a tick: the run first..last (consecutive seqs of one stream, encoded by `encode`, whose
   * encoded parts the caller holds in `parts`) as one buffer, when another viewer had the same run
   * in this tick. The first viewer with a run gets undefined and writes its parts itself: a run
   * nobody else has is never copied. Outside a tick (a viewer resuming after its socket drained),
   * always undefined. `encode` must be a pure function of the packet.
   */
  sharedBatch(encode: (p: MediaPacket) => Buffer, first: MediaPacket, last: MediaPacket, parts: readonly Buffer[]): Buffer | undefined {
    if (!this.inTick) return undefined;
    const head = this.batches.get(first);
    let batch = head;
    while (batch !== undefined && (batch.last !== last || batch.encode !== encode)) batch = batch.next;
    if (batch === undefined) {
      this.batches.set(first, { encode, last, parts: parts.slice(), joined: undefined, next: head });
      return undefined;
    }
    if (batch.joined === undefined) {
      batch.joined = Buffer.concat(batch.parts!);
      batch.parts = undefined;
    }
    return batch.joined;
  }

  /**
   * Since when (this.clock.now() ms) the oldest data not yet written has been waiting: viewers
   * marked dirty or urgent, or the tick in progress (its slices). Undefined when nothing waits. The
   * overload guard reads it: an event loop too busy to run ticks reports no lag, but its data waits.
   */
  waitingSince(): number | undefined {
    let since = this.dirtySince;
    if (this.urgentSince !== undefined && (since === undefined || this.urgentSince < since)) since = this.urgentSince;
    if (this.due.length > 0 && (since === undefined || this.tickDirtySince < since)) since = this.tickDirtySince;
    return since;
  }

  cancel(f: Flushable): void {
    this.dirty.delete(f);
    this.urgent.delete(f);
    if (this.dirty.size === 0 && this.groups.size === 0) this.dirtySince = undefined;
    if (this.urgent.size === 0) this.urgentSince = undefined;
  }

  private readonly runUrgent = (): void => {
    this.immediate = undefined;
    const batch = this.urgent;
    const since = this.urgentSince;
    this.urgent = new Set();
    this.urgentSince = undefined;
    // Wall time, not process.cpuUsage(): the bursts hold the event loop for that long, which is
    // their share of a waiting tick's lag (the process's CPU time also counts GC and pool threads,
    // and could exceed the lag it is taken out of).
    const t0 = this.clock.now();
    for (const f of batch) f.flush();
    const burstMs = this.clock.now() - t0;
    // With coalescing on, urgent runs are new viewers' start-up bursts, written at once: their
    // short lags would hide a tick lag that grows, so only the ticks count then, with the time
    // these bursts took (startupWorkMs) as the join's share of their lag.
    if (this.intervalMs > 0) this.startupWorkMs += burstMs;
    else if (since !== undefined && batch.size > 0) {
      const now = this.clock.now();
      this.onLag?.(now - since, now, 0);
    }
  };

  private readonly runDirty = (): void => {
    this.timer = undefined;
    this.takeDirty(this.due);
    this.start = tickStart(this.ticks, this.due.length);
    this.tickDirtySince = this.dirtySince ?? this.clock.now();
    this.tickStartupAt = this.dirtySince === undefined ? this.startupWorkMs : this.startupAtDirty;
    this.dirtySince = undefined;
    this.batches.clear();
    this.tickBytes = this.queuedBytes;
    this.queuedBytes = 0;
    this.tickWorkMs = 0;
    this.runSlice();
  };

  private readonly runSlice = (): void => {
    this.sliceImmediate = undefined;
    // The work is the process's CPU time (user + system: the syscalls are most of it), not wall
    // time: a slice preempted by other processes did not cost more, and should not make it coalesce.
    const c0 = this.clock.cpuMs();
    const viewers = this.due.length;
    const done = this.flushDue(SLICE);
    const w = this.clock.cpuMs() - c0;
    this.tickWorkMs += w;
    this.workMs += w;
    if (!done) {
      this.sliceImmediate = this.clock.setImmediate(this.runSlice);
      return;
    }
    this.ticks++;
    this.policy.recordTick(viewers, this.tickBytes, this.tickWorkMs);
    this.lastTickEnd = this.clock.now();
    this.onLag?.(this.lastTickEnd - this.tickDirtySince, this.lastTickEnd, this.startupWorkMs - this.tickStartupAt);
    // Decided on the next turn: I/O waiting meanwhile (new viewers, publisher data) goes first.
    if (this.dirty.size > 0 || this.groups.size > 0) this.deciding ??= this.clock.setImmediate(this.decide);
  };

  /** Flushes up to `max` due viewers; at the end of the tick, forgets it and returns true. */
  private flushDue(max: number): boolean {
    const due = this.due;
    const n = due.length;
    const end = Math.min(n, this.next + max);
    this.inTick = true;
    try {
      while (this.next < end) {
        const i = this.start + this.next++;
        due[i < n ? i : i - n]!.flush();
      }
    } finally {
      this.inTick = false;
    }
    if (this.next >= n) {
      this.due = [];
      this.start = 0;
      this.next = 0;
      this.batches.clear(); // written buffers live on only in the sockets' pending writes
      return true;
    }
    return false;
  }

  /** Flushes everything now and stops the timers. */
  close(): void {
    this.clock.clearTimeout(this.timer);
    if (this.deciding) this.clock.clearImmediate(this.deciding);
    this.deciding = undefined;
    if (this.frameEnd) this.clock.clearImmediate(this.frameEnd);
    this.frameEnd = undefined;
    this.frame = undefined;
    this.alignDue = false;
    if (this.immediate) this.clock.clearImmediate(this.immediate);
    if (this.sliceImmediate) this.clock.clearImmediate(this.sliceImmediate);
    this.timer = undefined;
    this.immediate = undefined;
    this.sliceImmediate = undefined;
    this.runUrgent();
    // The rest of a tick in progress, in its order, then the viewers waiting for the next one.
    const rest: Flushable[] = [];
    for (let k = this.next; k < this.due.length; k++) rest.push(this.due[(this.start + k) % this.due.length]!);
    this.takeDirty(rest);
    this.due = rest;
    this.start = 0;
    this.next = 0;
    this.flushDue(Infinity);
  }
}
