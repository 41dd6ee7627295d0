import { encodeFlvTag, isSequenceHeader, isVideoKeyframe, FLV_TAG_VIDEO } from '../protocols/flv/flv-tag.js';
import type { MediaPacket, TagType } from './media-packet.js';

/**
 * The hub's MediaPacket: built once per publisher message, then shared read-only by every reader.
 * The FLV tag and the RTMP chunk form are built lazily, once, on first demand, and cached on the packet.
 */
export class SharedPacket implements MediaPacket {
  readonly isKeyframe: boolean;
  readonly isSequenceHeader: boolean;
  private tag: Buffer | undefined;
  /** RTMP chunk serialization (type-0 headers, absolute timestamp), keyed by out chunk size. */
  rtmpChunks: Buffer | undefined;
  rtmpChunkSize = 0;
  /** Set by Stream.push. */
  seq = 0;

  constructor(
    readonly type: TagType,
    /** Writable for Stream.push only, which may shift it onto the stream's timeline before anyone reads it. */
    public timestamp: number,
    readonly body: Buffer,
  ) {
    this.isKeyframe = type === FLV_TAG_VIDEO && isVideoKeyframe(body);
    this.isSequenceHeader = isSequenceHeader(type, body);
  }

  flvTag(): Buffer {
    return (this.tag ??= encodeFlvTag(this.type, this.timestamp, this.body));
  }
}

/** Builds a packet (the body must not be modified afterwards: readers share it). */
export function createMediaPacket(type: TagType, timestamp: number, body: Buffer): SharedPacket {
  return new SharedPacket(type, timestamp >>> 0, body);
}
