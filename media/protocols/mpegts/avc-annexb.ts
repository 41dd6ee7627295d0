import type { ByteSink } from './byte-sink.js';

/** The decoder configuration of an H.264 stream, ready for Annex-B output. */
export interface AvcConfig {
  /** Bytes of each NAL unit's length prefix in the FLV samples (1, 2 or 4). */
  nalLengthSize: number;
  /** Every SPS then every PPS, each behind a 4-byte start code. */
  parameterSets: Buffer;
}

const START_CODE = [0, 0, 0, 1] as const;
/** An access unit delimiter (NAL type 9, primary_pic_type 7: any slice type), with its start code. */
export const AUD_NAL = Buffer.from([0, 0, 0, 1, 0x09, 0xf0]);

/** Reads an AVCDecoderConfigurationRecord; undefined when it is malformed. */
export function parseAvcConfig(record: Buffer): AvcConfig | undefined {
  if (record.length < 7 || record[0] !== 1) return undefined;
  const nalLengthSize = (record[4]! & 0x03) + 1;
  if (nalLengthSize === 3) return undefined;
  const sets: Buffer[] = [];
  let p = 5;
  for (let kind = 0; kind < 2; kind++) {
    if (p >= record.length) return undefined;
    const count = kind === 0 ? record[p]! & 0x1f : record[p]!;
    p++;
    for (let i = 0; i < count; i++) {
      if (p + 2 > record.length) return undefined;
      const len = record.readUInt16BE(p);
      p += 2;
      if (len === 0 || p + len > record.length) return undefined;
      sets.push(Buffer.from(START_CODE), record.subarray(p, p + len));
      p += len;
    }
  }
  if (sets.length === 0) return undefined;
  return { nalLengthSize, parameterSets: Buffer.concat(sets) };
}

/**
 * Appends one access unit in Annex-B form: an AUD, the SPS/PPS before a keyframe, then each NAL
 * of the length-prefixed `data` (in-band AUDs dropped: ours comes first). Returns false (having
 * written nothing usable) when a length runs past the data.
 */
export function writeAnnexB(out: ByteSink, cfg: AvcConfig, data: Buffer, start: number, keyframe: boolean): boolean {
  out.append(AUD_NAL);
  if (keyframe) out.append(cfg.parameterSets);
  const size = cfg.nalLengthSize;
  let p = start;
  while (p + size <= data.length) {
    const len = size === 4 ? data.readUInt32BE(p) : size === 2 ? data.readUInt16BE(p) : data[p]!;
    p += size;
    if (len === 0) continue;
    if (p + len > data.length) return false;
    if ((data[p]! & 0x1f) !== 9) {
      const at = out.reserve(4 + len);
      const b = out.buf;
      b[at] = 0; b[at + 1] = 0; b[at + 2] = 0; b[at + 3] = 1;
      data.copy(b, at + 4, p, p + len);
    }
    p += len;
  }
  return true;
}
