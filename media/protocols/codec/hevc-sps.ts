import { BitReader, CodecParseError, unescapeRbsp } from './bit-reader.js';
import type { SpsInfo } from './h264-sps.js';

/** Parses the picture size out of an HEVC SPS NAL unit (with its 2-byte NAL header). */
export function parseHevcSps(nal: Buffer): SpsInfo {
  if (nal.length < 4 || ((nal[0]! >> 1) & 0x3f) !== 33) throw new CodecParseError('not an HEVC SPS');
  const r = new BitReader(unescapeRbsp(nal.subarray(2)));
  r.skip(4); // sps_video_parameter_set_id
  const maxSubLayersMinus1 = r.bits(3);
  r.skip(1); // temporal_id_nesting
  // profile_tier_level(1, maxSubLayersMinus1)
  r.skip(2 + 1); // profile space, tier
  const profile = r.bits(5);
  r.skip(32 + 4 + 43 + 1); // compatibility flags, source flags, reserved
  const level = r.bits(8);
  const subProfile: number[] = [];
  const subLevel: number[] = [];
  for (let i = 0; i < maxSubLayersMinus1; i++) {
    subProfile.push(r.bit());
    subLevel.push(r.bit());
  }
  if (maxSubLayersMinus1 > 0) for (let i = maxSubLayersMinus1; i < 8; i++) r.skip(2);
  for (let i = 0; i < maxSubLayersMinus1; i++) {
    if (subProfile[i]) r.skip(88);
    if (subLevel[i]) r.skip(8);
  }
  r.ue(); // sps_seq_parameter_set_id
  const chromaFormat = r.ue();
  if (chromaFormat > 3) throw new CodecParseError('bad chroma_format_idc');
  let separate = 0;
  if (chromaFormat === 3) separate = r.bit();
  let width = r.ue();
  let height = r.ue();
  if (r.bit()) {
    const chroma = separate ? 0 : chromaFormat;
    const subW = chroma === 1 || chroma === 2 ? 2 : 1;
    const subH = chroma === 1 ? 2 : 1;
    const l = r.ue(), rt = r.ue(), t = r.ue(), b = r.ue();
    width -= (l + rt) * subW;
    height -= (t + b) * subH;
  }
  if (width <= 0 || height <= 0 || width > 16384 || height > 16384) throw new CodecParseError('implausible picture size');
  return { profile, level, width, height };
}

/** The first SPS (NAL type 33) of an HEVCDecoderConfigurationRecord. */
export function spsFromHevcConfig(record: Buffer): Buffer {
  if (record.length < 23) throw new CodecParseError('bad HEVCDecoderConfigurationRecord');
  let pos = 22;
  const arrays = record[pos++]!;
  for (let a = 0; a < arrays; a++) {
    if (pos + 3 > record.length) break;
    const type = record[pos]! & 0x3f;
    const count = record.readUInt16BE(pos + 1);
    pos += 3;
    for (let n = 0; n < count; n++) {
      if (pos + 2 > record.length) throw new CodecParseError('HEVC record truncated');
      const len = record.readUInt16BE(pos);
      pos += 2;
      if (pos + len > record.length) throw new CodecParseError('HEVC record truncated');
      if (type === 33) return record.subarray(pos, pos + len);
      pos += len;
    }
  }
  throw new CodecParseError('no SPS in the HEVC configuration record');
}
