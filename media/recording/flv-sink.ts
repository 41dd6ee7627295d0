import type { Writable } from 'node:stream';
import type { Logger } from '../../core/logging/logger.js';
import type { MediaPacket } from '../stream/media-packet.js';
import type { StreamReader } from '../stream/stream-reader.js';
import { FLV_HEADER, FLV_TAG_AUDIO, FLV_TAG_SCRIPT, FLV_TAG_VIDEO, writeFlvTagHeader } from '../protocols/flv/flv-tag.js';

export interface FlvSinkOptions {
  id: string;
  /** Where the FLV byte stream goes: a file write stream (recorder) or ffmpeg's stdin (HLS). */
  out: Writable;
  log: Logger;
  /**
   * Bytes the destination may hold unwritten before the sink drops media up to the next keyframe
   * (a slow disk or an ffmpeg that fell behind must not grow memory without bound).
   */
  maxBufferedBytes: number;
  /** Called once, after the stream ended (or close() was called) and `out` was ended. */
  onEnd?: () => void;
}

/** AMF0 string "onMetaData" as it opens a metadata script tag body. */
const ON_METADATA = Buffer.from([0x02, 0x00, 0x0a, ...Buffer.from('onMetaData')]);
/** Audio packets with no video ever seen, after which we decide the stream is audio-only. */
const AUDIO_ONLY_AFTER = 100;

/**
 * A StreamReader (kind 'internal') that writes the live stream as one FLV byte stream: the FLV
 * header, onMetaData, then audio and video tags with timestamps rebased so the output starts at 0.
 * It starts at a video keyframe, and when the destination falls behind it drops media up to the
 * next keyframe instead of queueing it. Never throws: the hub calls it on the publisher's path.
 */
export class FlvSink implements StreamReader {
  readonly kind = 'internal' as const;
  readonly id: string;
  /** Bytes handed to `out`, tags written and packets dropped because `out` was behind. */
  bytesWritten = 0;
  tagsWritten = 0;
  droppedPackets = 0;
  /** Largest rebased timestamp written, i.e. the media duration so far in ms. */
  durationMs = 0;

  private readonly out: Writable;
  private readonly log: Logger;
  private readonly maxBuffered: number;
  private readonly onEnd?: () => void;
  private base: number | undefined;
  private waitingForKeyframe = true;
  private sawVideo = false;
  private audioWhileWaiting = 0;
  private corked = false;
  private ended = false;
  private broken = false;

  constructor(options: FlvSinkOptions) {
    this.id = options.id;
    this.out = options.out;
    this.log = options.log;
    this.maxBuffered = options.maxBufferedBytes;
    this.onEnd = options.onEnd;
    this.out.on('error', (err) => {
      // EPIPE from a dead ffmpeg or a disk error: stop writing; the owner sees the exit/close.
      if (!this.broken) this.log.warn({ err, sink: this.id }, 'FLV sink output failed');
      this.broken = true;
    });
    // Audio and video flags both set: a decoder ignores a flag whose tags never come.
    this.write(FLV_HEADER(true, true));
  }

  onPacket(packet: MediaPacket): void {
    if (this.ended || this.broken) return;
    try {
      this.accept(packet);
    } catch (err) {
      this.log.error({ err, sink: this.id }, 'FLV sink failed on a packet');
      this.broken = true;
    }
  }

  onStreamEnd(): void {
    this.close();
  }

  /** True once the stream ended or close() was called. */
  get isClosed(): boolean {
    return this.ended;
  }

  /** Ends the output (idempotent); `onEnd` runs once. */
  close(): void {
    if (this.ended) return;
    this.ended = true;
    try {
      this.uncork();
      this.out.end();
    } catch (err) {
      this.log.warn({ err, sink: this.id }, 'FLV sink end failed');
    }
    this.onEnd?.();
  }

  private accept(packet: MediaPacket): void {
    if (packet.type === FLV_TAG_SCRIPT) {
      // Only metadata travels to files and ffmpeg; other script data (cue points, ...) is dropped.
      if (packet.body.subarray(0, ON_METADATA.length).equals(ON_METADATA)) this.writeTag(packet, 0);
      return;
    }
    if (packet.type !== FLV_TAG_AUDIO && packet.type !== FLV_TAG_VIDEO) return;
    if (packet.type === FLV_TAG_VIDEO) this.sawVideo = true;
    if (packet.isSequenceHeader) {
      // Decoder configuration always passes (tiny, and nothing decodes without it).
      this.writeTag(packet, this.rebase(packet.timestamp));
      return;
    }
    if (!this.waitingForKeyframe && this.out.writableLength > this.maxBuffered) {
      this.waitingForKeyframe = true;
      this.log.warn({ sink: this.id, buffered: this.out.writableLength }, 'FLV sink output is behind; skipping to the next keyframe');
    }
    if (this.waitingForKeyframe && !this.canResume(packet)) {
      this.droppedPackets++;
      return;
    }
    this.waitingForKeyframe = false;
    this.base ??= packet.timestamp;
    const ts = this.rebase(packet.timestamp);
    if (ts > this.durationMs) this.durationMs = ts;
    this.writeTag(packet, ts);
  }

  private canResume(packet: MediaPacket): boolean {
    if (this.out.writableLength > this.maxBuffered / 2) return false;
    if (packet.isKeyframe) return true;
    if (packet.type === FLV_TAG_AUDIO && !this.sawVideo) return ++this.audioWhileWaiting > AUDIO_ONLY_AFTER;
    return false;
  }

  /** Milliseconds since the first written media packet; earlier stamps (or before the base) give 0. */
  private rebase(timestamp: number): number {
    if (this.base === undefined) return 0;
    const diff = (timestamp - this.base) >>> 0;
    return diff >= 0x80000000 ? 0 : diff;
  }

  private writeTag(packet: MediaPacket, timestamp: number): void {
    if (timestamp === packet.timestamp) {
      this.write(packet.flvTag()); // the shared tag: no copy
    } else {
      const header = Buffer.allocUnsafe(11);
      writeFlvTagHeader(header, 0, packet.type, timestamp, packet.body.length);
      const trailer = Buffer.allocUnsafe(4);
      trailer.writeUInt32BE(11 + packet.body.length, 0);
      this.write(header);
      this.write(packet.body);
      this.write(trailer);
    }
    this.tagsWritten++;
  }

  /** Writes are corked for the rest of the tick so a burst of tags becomes one writev. */
  private write(buf: Buffer): void {
    if (!this.corked) {
      this.corked = true;
      this.out.cork();
      process.nextTick(() => this.uncork());
    }
    this.out.write(buf);
    this.bytesWritten += buf.length;
  }

  private uncork(): void {
    if (!this.corked) return;
    this.corked = false;
    this.out.uncork();
  }
}
