/** What an ADTS header needs from the AudioSpecificConfig. */
export interface AdtsConfig {
  /** ADTS profile = MPEG-4 audio object type - 1 (AAC LC: 1). */
  profile: number;
  samplingIndex: number;
  channelConfig: number;
}

/**
 * Reads the fields ADTS carries from an AudioSpecificConfig; undefined when they cannot be
 * carried (an explicit sampling rate, or no channel configuration). HE-AAC (SBR/PS, object types
 * 5 and 29) is signalled implicitly, so it goes out as AAC LC at the core rate, as ffmpeg does.
 */
export function parseAdtsConfig(asc: Buffer): AdtsConfig | undefined {
  if (asc.length < 2) return undefined;
  const objectType = asc[0]! >> 3;
  const samplingIndex = ((asc[0]! & 0x07) << 1) | (asc[1]! >> 7);
  const channelConfig = (asc[1]! >> 3) & 0x0f;
  if (objectType === 0 || objectType === 31 || samplingIndex > 12 || channelConfig === 0 || channelConfig > 7) return undefined;
  const profile = objectType >= 1 && objectType <= 4 ? objectType - 1 : 1;
  return { profile, samplingIndex, channelConfig };
}

/** Writes the 7-byte ADTS header (MPEG-4, no CRC) of a frame of `rawLength` bytes. */
export function writeAdtsHeader(b: Buffer, at: number, cfg: AdtsConfig, rawLength: number): void {
  const frameLength = rawLength + 7;
  b[at] = 0xff;
  b[at + 1] = 0xf1; // syncword, MPEG-4, layer 0, protection_absent
  b[at + 2] = (cfg.profile << 6) | (cfg.samplingIndex << 2) | (cfg.channelConfig >> 2);
  b[at + 3] = ((cfg.channelConfig & 0x03) << 6) | (frameLength >> 11);
  b[at + 4] = (frameLength >> 3) & 0xff;
  b[at + 5] = ((frameLength & 0x07) << 5) | 0x1f; // buffer fullness 0x7FF (VBR)
  b[at + 6] = 0xfc; // rest of buffer fullness, one raw data block
}

/** Largest raw AAC frame an ADTS header can describe. */
export const ADTS_MAX_RAW = 0x1fff - 7;
