import { BitReader, CodecParseError } from './bit-reader.js';

const AAC_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

export interface AudioSpecificConfig {
  objectType: number;
  sampleRate: number;
  channels: number;
}

/** Parses an MPEG-4 AudioSpecificConfig (the AAC sequence header body after the 2 FLV bytes). */
export function parseAudioSpecificConfig(asc: Buffer): AudioSpecificConfig {
  const r = new BitReader(asc);
  let objectType = r.bits(5);
  if (objectType === 31) objectType = 32 + r.bits(6);
  const freqIndex = r.bits(4);
  let sampleRate: number;
  if (freqIndex === 15) sampleRate = r.bits(24);
  else if (freqIndex < AAC_RATES.length) sampleRate = AAC_RATES[freqIndex]!;
  else throw new CodecParseError(`bad AAC sampling frequency index ${freqIndex}`);
  const channelConfig = r.bits(4);
  const channels = channelConfig === 7 ? 8 : channelConfig;
  return { objectType, sampleRate, channels };
}
