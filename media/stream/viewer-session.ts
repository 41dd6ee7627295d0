import type { PlayEnded, PlayProtocol } from '../../core/media/media-contract.js';
import type { MediaPacket } from './media-packet.js';
import type { StreamReader } from './stream-reader.js';
import type { FlushScheduler } from './flush-scheduler.js';
import type { RunFollower, SharedRun } from './shared-run.js';

/** Where a viewer's bytes go: a net.Socket, or an adapter over a WebSocket. */
export interface ViewerSink {
  /** `done` is called once this chunk has been handed to the kernel (or the write failed). */
  write(buf: Buffer, done?: (err?: Error | null) => void): void;
  cork(): void;
  uncork(): void;
  /** Bytes accepted by write() but not yet handed to the kernel. */
  readonly writableLength: number;
  /**
   * True for a sink that makes each write a message of its own (WebSocket). Writes to any other
   * sink form one byte stream, so several queued buffers may go out joined as one.
   */
  readonly framesWrites?: boolean;
}

export interface ViewerLimits {
  /** Bound of the per-viewer send queue in bytes (config.media.viewerQueueBytes). */
  queueBytes: number;
  /** Bound in media time, and the longest a viewer may stay behind before eviction (config.media.viewerQueueTime). */
  queueTimeMs: number;
}

export interface ViewerCounters {
  skips: number;
  evictions: number;
}

/** A coarse clock shared by every viewer: ViewerWatch advances `tick` every `tickMs`. */
export interface WatchClock {
  tick: number;
  readonly tickMs: number;
}

export type ViewerEndReason = PlayEnded['reason'];

/**
 * The per-viewer half of delivery, shared by RTMP, HTTP-FLV and WS-FLV. Receives the shared
 * packets, turns each into the protocol's shared bytes (encode) and queues the reference; the
 * scheduler's flush writes the queue corked, in one writev, and only once the sink has handed the
 * previous batch to the kernel. So a viewer costs one array slot per queued packet (no copies, no
 * stream-internal entries piling up for a slow reader) and about one syscall per flush tick (the
 * scheduler spaces ticks by the work they take: see FlushPolicy).
 *
 * Viewers that keep up with the stream queue the same run of packets each interval; the scheduler
 * then hands them one joined buffer to write (FlushScheduler.sharedBatch) instead of the parts.
 *
 * Backpressure: the queue is our queued bytes plus what the sink still holds, and the media time
 * from the oldest packet not yet handed to the kernel to the newest. Over either bound the viewer
 * drops everything up to the next keyframe (one skip) and resumes at a keyframe once the queue is
 * below half of both bounds. A viewer is evicted with reason 'slow' when it is still behind
 * queueTimeMs after the skip began, or when a batch has waited queueTimeMs for the kernel to take
 * it (checkStalled, called by ViewerWatch; the bytes the kernel holds are ViewerWatch's business).
 *
 * The sink may call a write's callback synchronously (a WebSocket that is closing does): the queue
 * is detached before any write, and a failed write ends the session instead of writing again.
 *
 * Following the stream's shared run (SharedRun): a viewer in step (it got its first keyframe, is not
 * skipping, its sink is a byte stream, and it has written every packet up to the stream's newest)
 * gets no onPacket call per packet. At each tick it takes the packets from its cursor to the end of
 * the run as one buffer shared with the viewers at the same cursor; the queue bound (bytes and media
 * time) is checked then, once per tick, and a viewer over it skips as above, back on the per-packet
 * path (which resumes it at a keyframe, or evicts it). Its own queue stays empty while it follows:
 * bytes that are not packets (writeRaw), the end of the stream and a republish take it off the run
 * first, its pending packets moved into its queue in order.
 */
export class ViewerSession implements StreamReader, RunFollower {
  bytesOut = 0;
  readonly startedAt = Date.now();
  skips = 0;
  private queue: Buffer[] = [];
  /** The array of the batch in flight, reused as the next queue once that batch has left. */
  private spare: Buffer[] = [];
  private queuedBytes = 0;
  private scheduled = false;
  /** A batch is on its way to the kernel; the next one goes when it has left. */
  private inFlight = false;
  /** clock.tick when the batch in flight was handed to the sink. */
  private flightTick = 0;
  private skipping = false;
  private behindSince = 0;
  /** Timestamp of the first media packet in our queue, and of the batch in flight (-1: none). */
  private queueHeadTs = -1;
  private flightHeadTs = -1;
  private ended = false;
  private gotFirstKeyframe = false;
  /** The queue as a run of consecutive stream packets (first..last), unless `runBroken`. */
  private runFirst: MediaPacket | undefined;
  private runLast: MediaPacket | undefined;
  private runBroken = false;
  private readonly joinable: boolean;
  /** Seq of the last packet queued (the stream's newest when the viewer is in step); -1: none. */
  private lastSeq = -1;
  /** The stream's shared run, and whether we take packets from it (at `cursor`) instead of onPacket. */
  private run: SharedRun | undefined;
  private following = false;
  private cursor = 0;

  constructor(
    readonly id: string,
    readonly kind: PlayProtocol,
    private readonly sink: ViewerSink,
    private readonly encode: (p: MediaPacket) => Buffer,
    private readonly scheduler: FlushScheduler,
    private readonly limits: ViewerLimits,
    private readonly counters: ViewerCounters,
    private readonly clock: WatchClock,
    private readonly onEnd: (reason: ViewerEndReason) => void,
  ) {
    this.joinable = sink.framesWrites !== true;
  }

  /** Queues bytes that are not packets (FLV header, RTMP status messages) ahead of the media. */
  writeRaw(buf: Buffer): void {
    if (this.ended) return;
    this.leaveRun(true);
    this.runBroken = true;
    this.enqueue(buf);
  }

  onPacket(p: MediaPacket): void {
    if (this.ended) return;
    if (this.following) this.leaveRun(true); // not sent while following: only if a caller replays to it
    const isVideo = p.type === 9;
    if (p.isSequenceHeader || p.type === 18) {
      this.enqueuePacket(p);
      return;
    }
    const queued = this.queuedBytes + this.sink.writableLength;
    if (this.skipping) {
      // Resume only once the backlog is small in bytes and in time: a batch stuck in flight keeps
      // the time backlog growing, so such a viewer stays behind until it is evicted.
      if (!(isVideo && p.isKeyframe && queued <= this.limits.queueBytes / 2 && this.mediaQueued(p.timestamp) <= this.limits.queueTimeMs / 2)) {
        this.checkEvict();
        return;
      }
      this.skipping = false;
      this.behindSince = 0;
    } else if (queued > this.limits.queueBytes || (queued > 0 && this.mediaQueued(p.timestamp) > this.limits.queueTimeMs)) {
      this.startSkip();
      return;
    }
    if (isVideo && p.isKeyframe) this.gotFirstKeyframe = true;
    else if (isVideo && !this.gotFirstKeyframe) return; // never start a viewer on a delta frame
    if (this.queueHeadTs < 0) this.queueHeadTs = p.timestamp;
    this.enqueuePacket(p);
    if (isVideo) this.scheduler.frameQueued(p); // ticks may align to video frames (FrameAlign)
  }

  /** Queues the packet's bytes and tracks whether the queue is still one unbroken run of the stream. */
  private enqueuePacket(p: MediaPacket): void {
    if (this.queue.length === 0) {
      this.runFirst = p;
      this.runBroken = false;
    } else if (this.runLast === undefined || p.seq !== this.runLast.seq + 1) {
      this.runBroken = true;
    }
    this.runLast = p;
    this.lastSeq = p.seq;
    this.enqueue(this.encode(p));
  }

  /** Seq of the next packet this viewer takes from its stream's run (while it follows it). */
  get runCursor(): number {
    return this.cursor;
  }

  /** Called by the stream when the reader is added: its shared run, followed once the viewer is in step. */
  attachRun(run: SharedRun): void {
    this.leaveRun(true);
    this.run = run;
  }

  /** In step with the stream (see the class comment), with nothing queued: take packets from the run from now on. */
  private maybeFollow(): void {
    const run = this.run;
    if (run === undefined || run.closed || this.following || this.ended || !this.joinable || this.skipping || !this.gotFirstKeyframe) return;
    if (this.queue.length > 0 || this.lastSeq !== run.latestSeq) return;
    this.cursor = run.follow(this, this.scheduler, this.limits);
    this.following = true;
  }

  /**
   * Back to the per-packet path. `keepPending`: the packets of the run this viewer has not taken yet
   * go into its queue, in order (else they are dropped: a skip, or the end).
   */
  leaveRun(keepPending: boolean): void {
    if (!this.following) return;
    this.following = false;
    const run = this.run!;
    if (keepPending && !this.ended) {
      if (run.lost(this.cursor)) this.startSkip();
      else {
        for (const p of run.pendingFrom(this.cursor)) {
          if (this.queueHeadTs < 0 && !p.isSequenceHeader && p.type !== 18) this.queueHeadTs = p.timestamp;
          this.enqueuePacket(p);
        }
      }
    }
    run.unfollow(this);
  }

  private startSkip(): void {
    this.skipping = true;
    this.skips++;
    this.counters.skips++;
    this.behindSince = Date.now();
  }

  /**
   * A follower's flush: the per-viewer checks, then the packets from the cursor to the end of the
   * run in one write (unless a batch is still in flight: then when it has left).
   */
  private flushRun(): void {
    const run = this.run!;
    const end = run.endSeq;
    if (this.cursor >= end) return;
    const pending = run.bytesFrom(this.cursor);
    const queued = pending + this.sink.writableLength;
    const head = this.flightHeadTs >= 0 ? this.flightHeadTs : pending === Infinity ? -1 : run.tsAt(this.cursor);
    if (queued > this.limits.queueBytes || (head >= 0 && ((run.newestTs - head) | 0) > this.limits.queueTimeMs)) {
      // Over a bound: drop what is pending and wait for a keyframe on the per-packet path, as a skip there.
      this.startSkip();
      this.leaveRun(false);
      return;
    }
    if (this.inFlight) return;
    const taken = run.take(this.encode, this.cursor);
    this.cursor = end;
    this.inFlight = true;
    this.flightTick = this.clock.tick;
    this.flightHeadTs = head;
    if (Buffer.isBuffer(taken)) {
      this.bytesOut += taken.length;
      this.sink.write(taken, this.batchSent);
      return;
    }
    // The first follower of this range: its parts (the sink may call back synchronously: the state
    // above is already that of a batch in flight).
    for (let i = 0; i < taken.length; i++) this.bytesOut += taken[i]!.length;
    this.writeParts(taken);
  }

  /** A batch of two or more buffers as one corked writev; `batchSent` once the last has left. */
  private writeParts(parts: readonly Buffer[]): void {
    const sink = this.sink;
    const n = parts.length;
    sink.cork();
    for (let i = 0; i < n - 1; i++) sink.write(parts[i]!);
    sink.write(parts[n - 1]!, this.batchSent);
    sink.uncork();
  }

  /** Media time between `ts` and the oldest packet not yet handed to the kernel. */
  private mediaQueued(ts: number): number {
    const head = this.flightHeadTs >= 0 ? this.flightHeadTs : this.queueHeadTs;
    if (head < 0) return 0;
    const d = (ts - head) | 0; // 32-bit wrap-safe difference
    return d > 0 ? d : 0;
  }

  private checkEvict(): void {
    if (this.behindSince && Date.now() - this.behindSince > this.limits.queueTimeMs) this.evict();
  }

  /** Ends the viewer as too slow (counted). */
  evict(): void {
    if (this.ended) return;
    this.counters.evictions++;
    this.end('slow');
  }

  /**
   * Called by ViewerWatch every clock tick: a batch the kernel has not taken for queueTimeMs
   * (the socket's buffers are full: the viewer reads nothing) evicts the viewer, packets or not.
   */
  checkStalled(): void {
    if (this.ended) return;
    if (this.inFlight && (this.clock.tick - this.flightTick) * this.clock.tickMs > this.limits.queueTimeMs) this.evict();
    else if (this.skipping) this.checkEvict();
  }

  private enqueue(buf: Buffer): void {
    this.queue.push(buf);
    this.queuedBytes += buf.length;
    this.bytesOut += buf.length;
    this.scheduler.queued(buf.length);
    if (!this.scheduled) {
      this.scheduled = true;
      this.scheduler.schedule(this);
    }
  }

  /** Called by the scheduler: one corked writev of the queue, unless a batch is still in flight. */
  flush(): void {
    this.scheduled = false;
    if (this.following) {
      if (!this.ended) this.flushRun();
      return;
    }
    // While a batch is in flight the queue keeps growing (bounded by the skip logic) and goes out
    // as soon as that batch has left (batchSent), not at the next tick.
    if (this.queue.length === 0 || this.ended || this.inFlight) return;
    this.writeQueue();
  }

  private writeQueue(): void {
    const sink = this.sink;
    // Detach the queue first: a sink may call back synchronously (batchSent), and must then find
    // an empty queue, not this batch again.
    const batch = this.queue;
    this.queue = this.spare;
    this.spare = batch;
    const n = batch.length;
    this.inFlight = true;
    this.flightTick = this.clock.tick;
    this.flightHeadTs = this.queueHeadTs;
    this.queueHeadTs = -1;
    const shared = n > 1 && this.joinable && !this.runBroken && this.runFirst !== undefined
      ? this.scheduler.sharedBatch(this.encode, this.runFirst, this.runLast!, batch)
      : undefined;
    this.queuedBytes = 0;
    this.runFirst = this.runLast = undefined;
    if (shared !== undefined) {
      sink.write(shared, this.batchSent);
    } else if (n === 1) {
      sink.write(batch[0]!, this.batchSent);
    } else {
      this.writeParts(batch);
    }
    batch.length = 0;
    this.maybeFollow();
  }

  private readonly batchSent = (err?: Error | null): void => {
    this.inFlight = false;
    this.flightHeadTs = -1;
    if (this.ended) return;
    // The transport failed (closed, reset, WebSocket closing): the viewer is gone. Writing the
    // queue again would only fail again, synchronously for some sinks.
    if (err) {
      this.end('closed');
      return;
    }
    if (this.following) this.flushRun();
    else if (this.queue.length) this.writeQueue();
  };

  /** Sends the start-up burst at once (time to first frame). */
  flushSoon(): void {
    if (this.queue.length) this.scheduler.scheduleNow(this);
  }

  onStreamEnd(): void {
    this.end('stream-ended');
  }

  /** Joins a new publish of its stream (ViewerRegistry.adopt): like a new viewer, it starts at a keyframe. */
  rejoin(): void {
    this.leaveRun(true);
    this.run = undefined;
    this.lastSeq = -1;
    this.gotFirstKeyframe = false;
    this.skipping = false;
    this.behindSince = 0;
  }

  /** Ends the session once; the owner closes the transport in onEnd. At stream end the queue is sent first. */
  end(reason: ViewerEndReason): void {
    if (this.ended) return;
    this.leaveRun(reason === 'stream-ended');
    this.ended = true;
    this.scheduler.cancel(this);
    if (reason === 'stream-ended' && this.queue.length) this.writeQueue();
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.queueHeadTs = this.flightHeadTs = -1;
    this.runFirst = this.runLast = undefined;
    this.onEnd(reason);
  }

  get isEnded(): boolean {
    return this.ended;
  }
}
