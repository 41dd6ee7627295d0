/**
 * H.264 from FLV to RTP payloads (RFC 6184), pure: buffers in, buffers out. FLV carries AVC as
 * AVCC (each NAL unit prefixed by its length, 1-4 bytes as the decoder configuration says); RTP
 * carries each NAL unit as one packet when it fits (single NAL unit mode) or as FU-A fragments.
 * Packetization mode 1 is what browsers offer; STAP-A is not used (SPS and PPS go as single NALs).
 */

/** Largest RTP payload: 1200 bytes keeps the SRTP packet under every path MTU browsers assume. */
export const RTP_MAX_PAYLOAD = 1200;

/** NAL unit types this code acts on. */
const NAL_SPS = 7;
const NAL_PPS = 8;
const NAL_AUD = 9;
const NAL_FILLER = 12;
const NAL_FU_A = 28;

/** The parameter sets of an AVCDecoderConfigurationRecord (ISO 14496-15 5.2.4.1). */
export interface AvcConfig {
  /** Bytes of each NAL unit's length prefix (1, 2 or 4). */
  lengthSize: number;
  sps: Buffer[];
  pps: Buffer[];
  /** profile_idc, constraint flags and level_idc as a profile-level-id (e.g. '42e01f'), from the first SPS. */
  profileLevelId: string;
}

/** Parses an AVCDecoderConfigurationRecord; undefined when it is truncated or malformed. */
export function parseAvcConfig(record: Buffer): AvcConfig | undefined {
  if (record.length < 7 || record[0] !== 1) return undefined;
  const lengthSize = (record[4]! & 3) + 1;
  if (lengthSize === 3) return undefined;
  let off = 5;
  const sps: Buffer[] = [];
  const pps: Buffer[] = [];
  const nSps = record[off++]! & 0x1f;
  for (let i = 0; i < nSps; i++) {
    if (off + 2 > record.length) return undefined;
    const len = record.readUInt16BE(off);
    off += 2;
    if (len === 0 || off + len > record.length) return undefined;
    sps.push(record.subarray(off, off + len));
    off += len;
  }
  if (off >= record.length) return undefined;
  const nPps = record[off++]!;
  for (let i = 0; i < nPps; i++) {
    if (off + 2 > record.length) return undefined;
    const len = record.readUInt16BE(off);
    off += 2;
    if (len === 0 || off + len > record.length) return undefined;
    pps.push(record.subarray(off, off + len));
    off += len;
  }
  if (sps.length === 0 || pps.length === 0) return undefined;
  const s = sps[0]!;
  const profileLevelId = s.length >= 4 ? s.subarray(1, 4).toString('hex') : '42e01f';
  return { lengthSize, sps, pps, profileLevelId };
}

/** Splits AVCC data into NAL units; stops at the first length that runs past the end. */
export function splitAvcc(data: Buffer, lengthSize: number): Buffer[] {
  const out: Buffer[] = [];
  let off = 0;
  while (off + lengthSize <= data.length) {
    const len = lengthSize === 4 ? data.readUInt32BE(off) : lengthSize === 2 ? data.readUInt16BE(off) : data[off]!;
    off += lengthSize;
    if (len === 0) continue;
    if (off + len > data.length) break;
    out.push(data.subarray(off, off + len));
    off += len;
  }
  return out;
}

/** One NAL unit as RTP payloads: itself when it fits, else FU-A fragments of at most `max` bytes. */
export function packetizeNalu(nalu: Buffer, max = RTP_MAX_PAYLOAD): Buffer[] {
  if (nalu.length <= max) return [nalu];
  const header = nalu[0]!;
  const indicator = (header & 0xe0) | NAL_FU_A;
  const type = header & 0x1f;
  const out: Buffer[] = [];
  const chunk = max - 2;
  for (let off = 1; off < nalu.length; off += chunk) {
    const end = Math.min(off + chunk, nalu.length);
    const fu = Buffer.allocUnsafe(2 + end - off);
    fu[0] = indicator;
    fu[1] = (off === 1 ? 0x80 : 0) | (end === nalu.length ? 0x40 : 0) | type;
    nalu.copy(fu, 2, off, end);
    out.push(fu);
  }
  return out;
}

/**
 * The RTP payloads of one access unit (one FLV video frame): its NAL units in order, AUD and
 * filler dropped. A keyframe that does not carry its own SPS and PPS gets the configuration's
 * in front, so a decoder can start at any keyframe. The last payload gets the marker bit.
 */
export function accessUnitPayloads(data: Buffer, config: AvcConfig, isKeyframe: boolean, max = RTP_MAX_PAYLOAD): Buffer[] {
  const nalus = splitAvcc(data, config.lengthSize).filter((n) => {
    const t = n[0]! & 0x1f;
    return t !== NAL_AUD && t !== NAL_FILLER;
  });
  if (nalus.length === 0) return [];
  const out: Buffer[] = [];
  if (isKeyframe && !nalus.some((n) => (n[0]! & 0x1f) === NAL_SPS)) {
    for (const p of [...config.sps, ...config.pps]) out.push(...packetizeNalu(p, max));
  } else if (isKeyframe && !nalus.some((n) => (n[0]! & 0x1f) === NAL_PPS)) {
    for (const p of config.pps) out.push(...packetizeNalu(p, max));
  }
  for (const n of nalus) out.push(...packetizeNalu(n, max));
  return out;
}

/** The FLV video tag body's parts: codec 7 is AVC; packet type 0 = configuration, 1 = NAL units. */
export interface FlvAvcPacket {
  isKeyframe: boolean;
  packetType: number;
  /** Composition time offset (ms): non-zero means the stream has B-frames (PTS != DTS). */
  compositionTime: number;
  data: Buffer;
}

/** Reads an FLV video tag body as AVC; undefined for other codecs (HEVC, enhanced FLV) or a short body. */
export function readFlvAvc(body: Buffer): FlvAvcPacket | undefined {
  if (body.length < 5 || (body[0]! & 0x80) !== 0 || (body[0]! & 0x0f) !== 7) return undefined;
  let cts = body.readUIntBE(2, 3);
  if (cts & 0x800000) cts -= 0x1000000;
  return { isKeyframe: (body[0]! >> 4) === 1, packetType: body[1]!, compositionTime: cts, data: body.subarray(5) };
}
