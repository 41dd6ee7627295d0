/**
 * One audio, video or script-data message as it travels from a publisher to every reader.
 * Built once per message by the publisher side and shared read-only by all readers: nothing on the
 * per-viewer path copies or re-muxes it.
 */
export const enum TagType {
  Audio = 8,
  Video = 9,
  Script = 18,
}

export interface MediaPacket {
  readonly type: TagType;
  /** Milliseconds (32-bit) on the stream's timeline: from 0, monotonic across the publisher's resets and jumps (ts-rebaser.ts). */
  readonly timestamp: number;
  /** The RTMP message payload, which is exactly the FLV tag body. */
  readonly body: Buffer;
  /** A video keyframe (frame type 1). */
  readonly isKeyframe: boolean;
  /** AVC/HEVC decoder configuration or AAC AudioSpecificConfig. */
  readonly isSequenceHeader: boolean;
  /**
   * The packet's place in its stream (1, 2, 3, ... as pushed; 0 before that). Two viewers that
   * queued the same unbroken run of seqs hold the same bytes, so they can share one flush buffer.
   */
  readonly seq: number;
  /**
   * The body wrapped as one complete FLV tag (11-byte header + body + 4-byte PreviousTagSize),
   * made lazily once and then shared by every FLV reader (HTTP-FLV, WS-FLV, recording, HLS feed).
   */
  flvTag(): Buffer;
}
