import type { MediaPacket } from '../stream/media-packet.js';
import type { StreamReader } from '../stream/stream-reader.js';
import { FLV_TAG_SCRIPT, FLV_TAG_VIDEO } from '../protocols/flv/flv-tag.js';

/** One segment's output: an FlvSink (or anything that takes packets and can be closed). */
export interface SegmentSink {
  onPacket(packet: MediaPacket): void;
  close(): void;
}

/**
 * Cuts a recording into segments of about `segmentMs` of media (ONAIR_RECORD_SEGMENT), so a media
 * crash loses at most the segment being written. A cut happens only on a video keyframe at least
 * `segmentMs` after the segment's first packet, so every segment starts decodable; each new
 * segment first gets the metadata and decoder configuration (sequence headers) seen so far.
 * Audio-only streams, having no keyframes to cut on, stay one segment. With `segmentMs` 0 it only
 * forwards.
 */
export class Segmenter implements StreamReader {
  readonly kind = 'internal' as const;
  private sink: SegmentSink;
  private index = 0;
  private startTs: number | undefined;
  private readonly headers = new Map<string, MediaPacket>();

  constructor(
    readonly id: string,
    private readonly segmentMs: number,
    private readonly open: (index: number) => SegmentSink,
  ) {
    this.sink = open(0);
  }

  onPacket(packet: MediaPacket): void {
    if (packet.type === FLV_TAG_SCRIPT) this.headers.set('meta', packet);
    else if (packet.isSequenceHeader) this.headers.set(`seq-${packet.type}`, packet);
    else if (this.startTs === undefined) this.startTs = packet.timestamp;
    else if (this.segmentMs > 0 && packet.type === FLV_TAG_VIDEO && packet.isKeyframe && ((packet.timestamp - this.startTs) >>> 0) >= this.segmentMs) {
      this.sink.close();
      this.sink = this.open(++this.index);
      for (const h of this.headers.values()) this.sink.onPacket(h);
      this.startTs = packet.timestamp;
    }
    this.sink.onPacket(packet);
  }

  onStreamEnd(): void {
    this.sink.close();
  }

  /** Ends the segment being written. */
  close(): void {
    this.sink.close();
  }
}
