import type { PlayEnded, PlayProtocol } from '../../core/media/media-contract.js';
import type { MediaPacket } from './media-packet.js';
import type { StreamReader } from './stream-reader.js';
import type { FlushScheduler } from './flush-scheduler.js';

/** Where a viewer's bytes go: a net.Socket, or an adapter over a WebSocket. */
export interface ViewerSink {
  write(buf: Buffer): void;
  cork(): void;
  uncork(): void;
  /** Bytes accepted by write() but not yet handed to the kernel. */
  readonly writableLength: number;
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

export type ViewerEndReason = PlayEnded['reason'];

/**
 * The per-viewer half of delivery, shared by RTMP, HTTP-FLV and WS-FLV. Receives the shared
 * packets, turns each into the protocol's shared bytes (encode), and writes them corked so that
 * one flush per interval sends them in one writev. Nothing here allocates per packet beyond what
 * the socket's write queue needs.
 *
 * Backpressure: the queue is what the sink holds (writableLength) plus the media time since the
 * sink was last empty. Over either bound the viewer drops everything up to the next keyframe (one
 * skip), and resumes at a keyframe once the queue has drained below half the byte bound. A viewer
 * still behind after queueTimeMs is evicted with reason 'slow'.
 */
export class ViewerSession implements StreamReader {
  bytesOut = 0;
  readonly startedAt = Date.now();
  skips = 0;
  private corked = false;
  private skipping = false;
  private behindSince = 0;
  /** Timestamp of the packet written when the sink was last empty: the head of the media queue. */
  private emptyAtTs = -1;
  private ended = false;
  /** Sequence headers and metadata must reach a viewer even while it skips. */
  private gotFirstKeyframe = false;

  constructor(
    readonly id: string,
    readonly kind: PlayProtocol,
    private readonly sink: ViewerSink,
    private readonly encode: (p: MediaPacket) => Buffer,
    private readonly scheduler: FlushScheduler,
    private readonly limits: ViewerLimits,
    private readonly counters: ViewerCounters,
    private readonly onEnd: (reason: ViewerEndReason) => void,
  ) {}

  /** Writes bytes that are not packets (FLV header, RTMP status messages) ahead of the media. */
  writeRaw(buf: Buffer): void {
    if (this.ended) return;
    this.ensureCorked(true);
    this.sink.write(buf);
    this.bytesOut += buf.length;
  }

  onPacket(p: MediaPacket): void {
    if (this.ended) return;
    const isVideo = p.type === 9;
    if (p.isSequenceHeader || p.type === 18) {
      this.send(p);
      return;
    }
    const queued = this.sink.writableLength;
    if (queued === 0) this.emptyAtTs = p.timestamp;
    if (this.skipping) {
      if (!(isVideo && p.isKeyframe && queued <= this.limits.queueBytes / 2)) {
        this.checkEvict();
        return;
      }
      this.skipping = false;
      this.behindSince = 0;
      this.emptyAtTs = p.timestamp;
    } else if (queued > this.limits.queueBytes || (queued > 0 && this.mediaQueued(p.timestamp) > this.limits.queueTimeMs)) {
      this.skipping = true;
      this.skips++;
      this.counters.skips++;
      this.behindSince = Date.now();
      return;
    }
    if (isVideo && p.isKeyframe) this.gotFirstKeyframe = true;
    else if (isVideo && !this.gotFirstKeyframe) return; // never start a viewer on a delta frame
    this.send(p);
  }

  private mediaQueued(ts: number): number {
    if (this.emptyAtTs < 0) return 0;
    const d = (ts - this.emptyAtTs) | 0; // 32-bit wrap-safe difference
    return d > 0 ? d : 0;
  }

  private checkEvict(): void {
    if (this.behindSince && Date.now() - this.behindSince > this.limits.queueTimeMs) {
      this.counters.evictions++;
      this.end('slow');
    }
  }

  private send(p: MediaPacket): void {
    const buf = this.encode(p);
    this.ensureCorked(false);
    this.sink.write(buf);
    this.bytesOut += buf.length;
  }

  private ensureCorked(now: boolean): void {
    if (!this.corked) {
      this.corked = true;
      this.sink.cork();
      if (now) this.scheduler.scheduleNow(this);
      else this.scheduler.schedule(this);
    } else if (now) {
      this.scheduler.scheduleNow(this);
    }
  }

  /** Called by the scheduler: one writev for everything written since the last flush. */
  flush(): void {
    if (!this.corked) return;
    this.corked = false;
    this.sink.uncork();
  }

  /** Flushes the start-up burst at once (time to first frame). */
  flushSoon(): void {
    if (this.corked) this.scheduler.scheduleNow(this);
  }

  onStreamEnd(): void {
    this.end('stream-ended');
  }

  /** Ends the session once; the owner closes the transport in onEnd. */
  end(reason: ViewerEndReason): void {
    if (this.ended) return;
    this.ended = true;
    this.scheduler.cancel(this);
    this.flush();
    this.onEnd(reason);
  }

  get isEnded(): boolean {
    return this.ended;
  }
}
