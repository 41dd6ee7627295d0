import type { MediaPacket } from './media-packet.js';

/**
 * Coalesces viewer writes: a viewer corks its socket when it gets the first packet of a batch and
 * registers here; one timer for the whole process uncorks every dirty viewer, so each viewer's
 * packets of that interval leave in one writev. One timer and one Set, whatever the viewer count.
 * A new viewer's start-up burst goes out at once (setImmediate), without flushing the others early.
 *
 * A tick is written in slices of SLICE viewers, yielding to the event loop in between: at 3200
 * viewers a tick is ~40 ms of work, and a viewer arriving meanwhile would otherwise wait for all of
 * it before its request is even read (time to first frame grew with the audience, to ~40 ms).
 *
 * Shared batches: viewers that keep up with a stream all queue the same packets in an interval, so
 * during a tick the scheduler joins such a run once into one buffer, and every viewer with that run
 * writes that single buffer (sharedBatch). Per viewer and interval that is one write instead of a
 * writev of ~8 parts, with far less garbage per viewer (write requests, chunk lists) to collect.
 */
export interface Flushable {
  flush(): void;
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

export class FlushScheduler {
  private dirty = new Set<Flushable>();
  private urgent = new Set<Flushable>();
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  /** The tick being written, slice by slice: due[next..] are still to flush. */
  private due: Flushable[] = [];
  private next = 0;
  private sliceImmediate: NodeJS.Immediate | undefined;
  /** Runs seen in the current tick, by first packet; emptied when a tick starts and ends. */
  private readonly batches = new Map<MediaPacket, Batch>();
  private inTick = false;

  constructor(private readonly intervalMs: number) {}

  /** Flush at the next interval tick. */
  schedule(f: Flushable): void {
    if (this.intervalMs <= 0) {
      this.scheduleNow(f); // no coalescing: every flush is urgent
      return;
    }
    this.dirty.add(f);
    // While a tick is still being written the next interval has not begun: it starts when the
    // tick ends (flushDue), as it did when a tick was written in one go. Starting it earlier would
    // shorten the interval under load and cost more writes per viewer.
    if (!this.timer && this.due.length === 0) this.timer = setTimeout(this.runDirty, this.intervalMs);
  }

  /** Flush as soon as the current I/O callbacks are done (a new viewer's start-up burst). */
  scheduleNow(f: Flushable): void {
    this.urgent.add(f);
    this.immediate ??= setImmediate(this.runUrgent);
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

  cancel(f: Flushable): void {
    this.dirty.delete(f);
    this.urgent.delete(f);
  }

  private readonly runUrgent = (): void => {
    this.immediate = undefined;
    const batch = this.urgent;
    this.urgent = new Set();
    for (const f of batch) f.flush();
  };

  private readonly runDirty = (): void => {
    this.timer = undefined;
    for (const f of this.dirty) this.due.push(f);
    this.dirty = new Set();
    this.batches.clear();
    this.sliceImmediate ??= setImmediate(this.runSlice);
  };

  private readonly runSlice = (): void => {
    this.sliceImmediate = undefined;
    this.flushDue(SLICE);
    if (this.next < this.due.length) this.sliceImmediate = setImmediate(this.runSlice);
  };

  /** Flushes up to `max` due viewers; at the end of the tick, forgets it. */
  private flushDue(max: number): void {
    const due = this.due;
    const end = Math.min(due.length, this.next + max);
    this.inTick = true;
    try {
      while (this.next < end) due[this.next++]!.flush();
    } finally {
      this.inTick = false;
    }
    if (this.next >= due.length) {
      this.due = [];
      this.next = 0;
      this.batches.clear(); // written buffers live on only in the sockets' pending writes
      if (this.dirty.size > 0 && !this.timer) this.timer = setTimeout(this.runDirty, this.intervalMs);
    }
  }

  /** Flushes everything now and stops the timers. */
  close(): void {
    clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    if (this.sliceImmediate) clearImmediate(this.sliceImmediate);
    this.timer = undefined;
    this.immediate = undefined;
    this.sliceImmediate = undefined;
    this.runUrgent();
    for (const f of this.dirty) this.due.push(f);
    this.dirty = new Set();
    this.flushDue(Infinity);
  }
}
