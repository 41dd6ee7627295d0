import { BitReader, CodecParseError, unescapeRbsp } from './bit-reader.js';

export interface SpsInfo {
  profile: number;
  level: number;
  width: number;
  height: number;
}

const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

function skipScalingList(r: BitReader, size: number): void {
  let last = 8;
  let next = 8;
  for (let j = 0; j < size; j++) {
    if (next !== 0) next = (last + r.se() + 256) % 256;
    last = next === 0 ? last : next;
  }
}

/** Parses the picture size out of an H.264 SPS NAL unit (with its 1-byte NAL header). */
export function parseH264Sps(nal: Buffer): SpsInfo {
  if (nal.length < 4 || (nal[0]! & 0x1f) !== 7) throw new CodecParseError('not an H.264 SPS');
  const r = new BitReader(unescapeRbsp(nal.subarray(1)));
  const profile = r.bits(8);
  r.skip(8); // constraint flags
  const level = r.bits(8);
  r.ue(); // seq_parameter_set_id
  let chromaFormat = 1;
  let separateColourPlane = 0;
  if (HIGH_PROFILES.has(profile)) {
    chromaFormat = r.ue();
    if (chromaFormat > 3) throw new CodecParseError('bad chroma_format_idc');
    if (chromaFormat === 3) separateColourPlane = r.bit();
    r.ue(); // bit_depth_luma_minus8
    r.ue(); // bit_depth_chroma_minus8
    r.bit(); // qpprime_y_zero_transform_bypass
    if (r.bit()) {
      for (let i = 0; i < (chromaFormat !== 3 ? 8 : 12); i++) if (r.bit()) skipScalingList(r, i < 6 ? 16 : 64);
    }
  }
  r.ue(); // log2_max_frame_num_minus4
  const pocType = r.ue();
  if (pocType === 0) r.ue();
  else if (pocType === 1) {
    r.bit();
    r.se();
    r.se();
    const n = r.ue();
    if (n > 255) throw new CodecParseError('bad num_ref_frames_in_pic_order_cnt_cycle');
    for (let i = 0; i < n; i++) r.se();
  }
  r.ue(); // max_num_ref_frames
  r.bit(); // gaps_in_frame_num_value_allowed
  const widthMbs = r.ue() + 1;
  const heightMapUnits = r.ue() + 1;
  const frameMbsOnly = r.bit();
  if (!frameMbsOnly) r.bit(); // mb_adaptive_frame_field
  r.bit(); // direct_8x8_inference
  let cropL = 0, cropR = 0, cropT = 0, cropB = 0;
  if (r.bit()) {
    cropL = r.ue();
    cropR = r.ue();
    cropT = r.ue();
    cropB = r.ue();
  }
  const chroma = separateColourPlane ? 0 : chromaFormat;
  const cropX = chroma === 0 || chroma === 3 ? 1 : 2;
  const cropY = (chroma === 1 ? 2 : 1) * (2 - frameMbsOnly);
  const width = widthMbs * 16 - (cropL + cropR) * cropX;
  const height = (2 - frameMbsOnly) * heightMapUnits * 16 - (cropT + cropB) * cropY;
  if (width <= 0 || height <= 0 || width > 16384 || height > 16384) throw new CodecParseError('implausible picture size');
  return { profile, level, width, height };
}

/** The first SPS of an AVCDecoderConfigurationRecord. */
export function spsFromAvcConfig(record: Buffer): Buffer {
  if (record.length < 8 || record[0] !== 1) throw new CodecParseError('bad AVCDecoderConfigurationRecord');
  const numSps = record[5]! & 0x1f;
  if (numSps < 1) throw new CodecParseError('no SPS in the configuration record');
  const len = record.readUInt16BE(6);
  if (8 + len > record.length) throw new CodecParseError('SPS truncated');
  return record.subarray(8, 8 + len);
}
