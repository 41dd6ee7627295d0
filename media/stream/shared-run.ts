import type { FlushGroup, Flushable, FlushScheduler } from './flush-scheduler.js';
import type { MediaPacket } from './media-packet.js';

/** A viewer taking its packets from a stream's shared run instead of one call per packet. */
export interface RunFollower extends Flushable {
  readonly id: string;
  /** Seq of the next packet this follower takes from the run. */
  readonly runCursor: number;
  /**
   * The run lets the follower go (its stream is closing): it takes its pending packets
   * (pendingFrom) into its own queue and goes back to the per-packet path.
   */
  leaveRun(keepPending: boolean): void;
}

/** Where a follower goes back to when it leaves the run: the stream's per-packet fan-out. */
export interface RunHost {
  /** `f` takes each packet from the run now: the stream stops calling its onPacket. */
  detach(f: RunFollower): void;
  /** `f` left the run: the stream calls its onPacket again (if it is still a reader). */
  attach(f: RunFollower): void;
}

/** Bytes of a packet in the bound checks: its FLV tag (the RTMP chunk form is within ~0.5 % of it). */
export const runBytesOf = (p: MediaPacket): number => p.body.length + 15;

/** A range of the run taken by a follower: its encoded parts while one follower took it, joined once a second did. */
interface Taken {
  encode: (p: MediaPacket) => Buffer;
  from: number;
  to: number;
  parts: Buffer[] | undefined;
  joined: Buffer | undefined;
}

/**
 * Ranges remembered per run (a tick's followers mostly ask for one or two ranges). Only until the next
 * packet is appended: a follower always takes from its cursor to the end, so a range that ends before
 * the end is never asked for again.
 */
const RANGES = 4;
/** Packets appended between two looks at the followers' cursors (to drop what none of them needs). */
const SCAN_EVERY = 64;

/**
 * One stream's recent packets, held once for the viewers that keep up with it (followers).
 *
 * The stream fans each packet out per viewer (onPacket) only to the viewers that are not in step
 * (start-up, skipping, WebSocket-framed sinks, internal readers). A follower gets no call per packet:
 * the stream appends the packet here, which marks the run dirty for the scheduler once (a FlushGroup:
 * its followers count as waiting viewers) and reports the packet's bytes and video frame for all of
 * them at once. At its tick each follower takes the packets from its cursor to the end of the run as
 * one buffer, shared by every follower with the same cursor and encoding (joined). The per-viewer
 * checks (queue bound in bytes and media time, then skip) run then, once per tick: ViewerSession.
 *
 * Bounded by design (heldBytes counts it):
 * - per run: the packets from the oldest cursor still within its bound, at most the followers' largest
 *   queueBytes (in runBytesOf) plus one packet, and their largest queueTimeMs of media time: trimmed at
 *   every append, whatever the followers' ticks do (a follower whose cursor fell off the head would have
 *   been over its bound anyway, and skips at its tick). A dropped packet's slot is emptied at once, so
 *   the run keeps nothing reachable beyond that (each packet also carries its cached encodings, FLV
 *   tag / RTMP chunks, ~1-2x its body). Plus at most RANGES joined ranges, each no longer than the run,
 *   only until the next append (then the sockets writing them hold them, counted in their
 *   writableLength). Every SCAN_EVERY packets it also drops what every follower has taken.
 * - per follower: a cursor, no packets of its own; its socket holds at most its queueBytes, as the bound
 *   (pending + writableLength) is checked before each take (ViewerSession.flushRun).
 * With no followers it holds nothing.
 */
export class SharedRun implements FlushGroup {
  /** The packets held: pk[head..]; the slots before head are emptied (undefined) as they are dropped. */
  private pk: (MediaPacket | undefined)[] = [];
  /** ends[i]: bytes (runBytesOf) of pk[head..i], counted from the run's origin. */
  private ends: number[] = [];
  private head = 0;
  /** Bytes of the packets dropped from the head (the base of ends[]). */
  private dropped = 0;
  /** Seq of pk[head]. */
  private firstSeq = 0;
  /** Seq of the stream's newest packet (0: none yet). */
  latestSeq = 0;
  private readonly followers = new Set<RunFollower>();
  private scheduler: FlushScheduler | undefined;
  private maxBytes = 0;
  private maxMs = 0;
  private taken: Taken[] = [];
  /** Packets appended with followers (tests, metrics). */
  appended = 0;
  /** The stream closed (releaseAll): nobody follows any more. */
  closed = false;
  /** Length at which the followers' cursors are looked at next (dropHeld). */
  private scanAt = SCAN_EVERY;

  constructor(private readonly host: RunHost) {}

  get size(): number {
    return this.followers.size;
  }

  members(): Iterable<Flushable> {
    return this.followers;
  }

  /** Packets held now. */
  get length(): number {
    return this.pk.length - this.head;
  }

  /** The seq after the newest packet held: a follower with this cursor has everything. */
  get endSeq(): number {
    return this.firstSeq + this.length;
  }

  /**
   * `f` has every packet up to latestSeq: from now on it takes them here. `bounds`: its queue bounds
   * (the run keeps the largest any follower has).
   */
  follow(f: RunFollower, scheduler: FlushScheduler, bounds: { queueBytes: number; queueTimeMs: number }): number {
    this.scheduler = scheduler;
    if (bounds.queueBytes > this.maxBytes) this.maxBytes = bounds.queueBytes;
    if (bounds.queueTimeMs > this.maxMs) this.maxMs = bounds.queueTimeMs;
    if (this.length === 0) this.firstSeq = this.latestSeq + 1;
    this.followers.add(f);
    this.host.detach(f);
    return this.latestSeq + 1;
  }

  /** `f` no longer follows (it called leaveRun): back to the stream's per-packet fan-out. */
  unfollow(f: RunFollower): void {
    if (!this.followers.delete(f)) return;
    this.host.attach(f);
    if (this.followers.size === 0) this.clear();
  }

  /** Every follower leaves (the stream closes): each takes its pending packets, if `keepPending`. */
  releaseAll(keepPending: boolean): void {
    this.closed = true;
    for (const f of [...this.followers]) f.leaveRun(keepPending);
    this.followers.clear();
    this.clear();
  }

  /** The stream pushed `p` (seq latestSeq + 1): held for the followers, who are marked dirty once. */
  append(p: MediaPacket): void {
    this.latestSeq = p.seq;
    const n = this.followers.size;
    if (n === 0) return;
    if (p.seq !== this.endSeq) {
      // Not the next packet (cannot happen: seqs count every push): start over; followers behind skip.
      this.clear();
      this.firstSeq = p.seq;
    }
    if (this.taken.length > 0) this.taken.length = 0; // ranges to the old end: never asked for again
    const bytes = runBytesOf(p);
    const prev = this.ends.length > this.head ? this.ends[this.ends.length - 1]! : this.dropped;
    this.pk.push(p);
    this.ends.push(prev + bytes);
    this.appended++;
    this.trim(p.timestamp);
    if (this.length >= this.scanAt) this.dropHeld();
    const s = this.scheduler!;
    s.queued(bytes * n);
    s.scheduleGroup(this);
    if (p.type === 9 && !p.isSequenceHeader) s.frameQueued(p, n); // ticks may align to video frames (FrameAlign)
  }

  /** Drops head packets past both bounds (a follower still needing them is over its bound anyway). */
  private trim(newestTs: number): void {
    const end = this.pk.length;
    while (end - this.head > 1) {
      const bytes = this.ends[end - 1]! - this.dropped;
      const ms = (newestTs - this.pk[this.head]!.timestamp) | 0;
      if (bytes <= this.maxBytes && ms <= this.maxMs) break;
      this.dropped = this.ends[this.head]!;
      this.pk[this.head] = undefined; // no longer held: the packet (its body, its encodings) can go
      this.head++;
      this.firstSeq++;
    }
    this.compact();
  }

  /** Gives back the arrays' dropped head now and then. */
  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.pk.length) {
      this.pk = this.pk.slice(this.head);
      this.ends = this.ends.slice(this.head);
      this.head = 0;
    }
  }

  /**
   * Drops the packets every follower has taken (one pass over the followers every SCAN_EVERY packets:
   * a fraction of a step per packet). Followers in step took everything at their last tick.
   */
  private dropHeld(): void {
    let min = this.endSeq;
    for (const f of this.followers) if (f.runCursor < min) min = f.runCursor;
    const drop = Math.min(this.length, min - this.firstSeq);
    if (drop > 0) {
      for (let i = this.head; i < this.head + drop; i++) this.pk[i] = undefined;
      this.head += drop;
      this.firstSeq += drop;
      this.dropped = this.ends[this.head - 1]!;
      this.compact();
    }
    this.scanAt = this.length + SCAN_EVERY;
  }

  private clear(): void {
    this.pk = [];
    this.ends = [];
    this.head = 0;
    this.dropped = 0;
    this.taken = [];
    this.firstSeq = this.latestSeq + 1;
    this.scanAt = SCAN_EVERY;
  }

  /**
   * Bytes the run keeps reachable now: runBytesOf of every packet still referenced (held or in a slot
   * not emptied) and the joined ranges it remembers. O(packets held): for tests and diagnostics.
   */
  heldBytes(): number {
    let n = 0;
    for (const p of this.pk) if (p !== undefined) n += runBytesOf(p);
    for (const t of this.taken) n += t.joined?.length ?? 0;
    return n;
  }

  /** The run no longer holds packet `cursor` (it was dropped from the head): the follower lost it. */
  lost(cursor: number): boolean {
    return cursor < this.firstSeq;
  }

  /** Bytes from `cursor` to the end (runBytesOf); Infinity when the cursor was lost. */
  bytesFrom(cursor: number): number {
    if (cursor < this.firstSeq) return Infinity;
    const end = this.pk.length;
    const i = this.head + cursor - this.firstSeq;
    if (i >= end) return 0;
    const before = i > this.head ? this.ends[i - 1]! : this.dropped;
    return this.ends[end - 1]! - before;
  }

  /** Timestamp of packet `cursor` (held: not lost, before endSeq). */
  tsAt(cursor: number): number {
    return this.pk[this.head + cursor - this.firstSeq]!.timestamp;
  }

  /** Timestamp of the newest packet held. */
  get newestTs(): number {
    return this.pk[this.pk.length - 1]!.timestamp;
  }

  /** The packets from `cursor` to the end (held: not lost). */
  pendingFrom(cursor: number): MediaPacket[] {
    return this.pk.slice(this.head + Math.max(0, cursor - this.firstSeq)) as MediaPacket[];
  }

  /**
   * The packets from `cursor` to the end, encoded by `encode`. The first follower to take a range gets
   * its encoded parts (one corked writev: nothing copied for a range nobody else has, such as a lone
   * viewer's); a second one joins them into one buffer, which every later follower of that range and
   * encoding writes as it is (one write each instead of a writev of the parts). A single packet is its
   * own encoded buffer. `encode` must be a pure function of the packet.
   */
  take(encode: (p: MediaPacket) => Buffer, cursor: number): Buffer | readonly Buffer[] {
    const from = this.head + cursor - this.firstSeq;
    const to = this.pk.length;
    if (to - from === 1) return encode(this.pk[from]!);
    const last = this.endSeq;
    for (const t of this.taken) {
      if (t.encode !== encode || t.from !== cursor || t.to !== last) continue;
      if (t.joined === undefined) {
        t.joined = Buffer.concat(t.parts!);
        t.parts = undefined;
      }
      return t.joined;
    }
    const parts: Buffer[] = new Array(to - from);
    for (let i = from; i < to; i++) parts[i - from] = encode(this.pk[i]!);
    if (this.taken.length >= RANGES) this.taken.shift();
    this.taken.push({ encode, from: cursor, to: last, parts, joined: undefined });
    return parts;
  }
}
