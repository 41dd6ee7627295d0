/**
 * The latency probe: the probe publisher puts its wall clock (Date.now(), ms) into an H.264 SEI NAL
 * unit (user_data_unregistered, payload type 5) at the front of a video frame; viewers read it from
 * the first bytes of the video tag and compare with their own clock. Servers pass video payloads
 * through untouched (unlike AMF data messages or timestamps, which some rewrite or drop), so the
 * method works the same against onair, node-media-server and nginx-rtmp.
 *
 * The UUID and the clock are printable ASCII, so the payload never contains 00 00 and needs no
 * emulation-prevention bytes.
 */

export const CLOCK_UUID = Buffer.from('onair-clock-v1!!', 'ascii');
const CLOCK_DIGITS = 13;
const PAYLOAD_SIZE = CLOCK_UUID.length + CLOCK_DIGITS; // 29
/** NAL header + payload type + payload size + payload + rbsp trailing bits. */
export const CLOCK_NAL_SIZE = 1 + 1 + 1 + PAYLOAD_SIZE + 1; // 33

/** AVC video tag body header: frame type/codec (1), AVCPacketType (1), composition time (3). */
const AVC_HEADER = 5;
/** Bytes of a video tag body a viewer needs to read the clock. */
export const CLOCK_HEAD_BYTES = AVC_HEADER + 4 + CLOCK_NAL_SIZE;

/** A length-prefixed (4-byte) SEI NAL unit carrying `nowMs`. */
export function clockNal(nowMs: number): Buffer {
  const out = Buffer.alloc(4 + CLOCK_NAL_SIZE);
  out.writeUInt32BE(CLOCK_NAL_SIZE, 0);
  out[4] = 0x06; // nal_unit_type 6: SEI
  out[5] = 0x05; // user_data_unregistered
  out[6] = PAYLOAD_SIZE;
  CLOCK_UUID.copy(out, 7);
  out.write(String(Math.max(0, Math.floor(nowMs))).padStart(CLOCK_DIGITS, '0').slice(-CLOCK_DIGITS), 7 + 16, 'ascii');
  out[out.length - 1] = 0x80;
  return out;
}

/**
 * Inserts the clock NAL in front of the NAL units of an AVC NALU tag body (AVCPacketType 1) that
 * uses 4-byte NAL lengths. Other bodies (sequence headers, other codecs) come back unchanged.
 */
export function withClock(body: Buffer, nowMs: number): Buffer {
  if (body.length < AVC_HEADER || (body[0]! & 0x0f) !== 7 || body[1] !== 1) return body;
  return Buffer.concat([body.subarray(0, AVC_HEADER), clockNal(nowMs), body.subarray(AVC_HEADER)]);
}

/** The publisher's clock from the head of a video tag body, or undefined when it carries none. */
export function readClock(head: Buffer): number | undefined {
  if (head.length < CLOCK_HEAD_BYTES) return undefined;
  if ((head[0]! & 0x0f) !== 7 || head[1] !== 1) return undefined;
  if (head.readUInt32BE(AVC_HEADER) !== CLOCK_NAL_SIZE) return undefined;
  const nal = AVC_HEADER + 4;
  if (head[nal] !== 0x06 || head[nal + 1] !== 0x05 || head[nal + 2] !== PAYLOAD_SIZE) return undefined;
  if (head.compare(CLOCK_UUID, 0, 16, nal + 3, nal + 19) !== 0) return undefined;
  let ms = 0;
  for (let i = nal + 19; i < nal + 19 + CLOCK_DIGITS; i++) {
    const d = head[i]! - 0x30;
    if (d < 0 || d > 9) return undefined;
    ms = ms * 10 + d;
  }
  return ms;
}

/** A video keyframe that is not a sequence header (what a player can start decoding from). */
export function isVideoKeyframe(type: number, head: Buffer): boolean {
  if (type !== 9 || head.length < 2) return false;
  const isEnhanced = (head[0]! & 0x80) !== 0;
  const frameType = (head[0]! >> 4) & (isEnhanced ? 0x07 : 0x0f);
  if (frameType !== 1) return false;
  // Enhanced RTMP: packet type 0 (low nibble) is the sequence start. Legacy AVC/HEVC: byte 1 = 0.
  if (isEnhanced) return (head[0]! & 0x0f) !== 0;
  return head[1] !== 0;
}
