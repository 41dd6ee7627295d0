/**
 * FLV container pieces shared by every FLV consumer (HTTP-FLV, WS-FLV, recorder, HLS feed, tests,
 * the stress tool). Pure: buffers in, buffers out.
 *
 * An FLV file is: 9-byte header, PreviousTagSize0 (4 zero bytes), then tags; each tag is an
 * 11-byte header (type, 24-bit data size, 24-bit timestamp + 8-bit extension, 24-bit stream id 0),
 * the body, and a 4-byte PreviousTagSize (= 11 + body length).
 */

export const FLV_TAG_AUDIO = 8;
export const FLV_TAG_VIDEO = 9;
export const FLV_TAG_SCRIPT = 18;

export const FLV_TAG_HEADER_SIZE = 11;
/** Largest body a 24-bit data size can describe. */
export const FLV_MAX_BODY_SIZE = 0xffffff;

const headerCache = new Map<number, Buffer>();

/**
 * The 13 bytes that open an FLV stream: 'FLV', version 1, flags (4 = audio, 1 = video), header
 * size 9, then PreviousTagSize0. Returns a shared, read-only Buffer (do not modify it).
 */
export function FLV_HEADER(hasAudio: boolean, hasVideo: boolean): Buffer {
  const flags = (hasAudio ? 4 : 0) | (hasVideo ? 1 : 0);
  let buf = headerCache.get(flags);
  if (!buf) {
    buf = Buffer.from([0x46, 0x4c, 0x56, 1, flags, 0, 0, 0, 9, 0, 0, 0, 0]);
    headerCache.set(flags, buf);
  }
  return buf;
}

/** Writes the 11-byte tag header at `offset` of `out`. */
export function writeFlvTagHeader(out: Buffer, offset: number, type: number, timestamp: number, bodySize: number): void {
  out[offset] = type;
  out.writeUIntBE(bodySize, offset + 1, 3);
  const ts = timestamp >>> 0;
  out.writeUIntBE(ts & 0xffffff, offset + 4, 3);
  out[offset + 7] = (ts >>> 24) & 0xff;
  out.writeUIntBE(0, offset + 8, 3);
}

/**
 * One complete FLV tag: header + body + PreviousTagSize, in a single new Buffer. The timestamp is
 * taken modulo 2^32 (FLV's 24+8-bit field). Throws RangeError for a body over 16 MiB - 1.
 */
export function encodeFlvTag(type: number, timestamp: number, body: Buffer): Buffer {
  if (body.length > FLV_MAX_BODY_SIZE) throw new RangeError(`FLV tag body too large: ${body.length}`);
  const total = FLV_TAG_HEADER_SIZE + body.length + 4;
  const out = Buffer.allocUnsafe(total);
  writeFlvTagHeader(out, 0, type, timestamp, body.length);
  body.copy(out, FLV_TAG_HEADER_SIZE);
  out.writeUInt32BE(FLV_TAG_HEADER_SIZE + body.length, total - 4);
  return out;
}

/** A video tag body starts with frame type (1 = key) << 4 | codec id; enhanced RTMP sets bit 7. */
export function isVideoKeyframe(body: Buffer): boolean {
  return body.length > 0 && ((body[0]! >> 4) & 0x7) === 1;
}

/**
 * AVC/HEVC sequence header (legacy: codec 7/12 with AVCPacketType 0; enhanced RTMP: IsExHeader with
 * PacketType 0 = SequenceStart) or AAC AudioSpecificConfig (sound format 10, AACPacketType 0).
 */
export function isSequenceHeader(type: number, body: Buffer): boolean {
  if (body.length < 2) return false;
  const b0 = body[0]!;
  if (type === FLV_TAG_VIDEO) {
    if (b0 & 0x80) return (b0 & 0x0f) === 0; // enhanced RTMP ExHeader: PacketTypeSequenceStart
    const codec = b0 & 0x0f;
    return (codec === 7 || codec === 12 || codec === 13) && body[1] === 0;
  }
  if (type === FLV_TAG_AUDIO) return b0 >> 4 === 10 && body[1] === 0;
  return false;
}
