import type { AudioInfo, VideoInfo } from '../../../core/media/media-contract.js';
import { CodecParseError } from './bit-reader.js';
import { parseH264Sps, spsFromAvcConfig } from './h264-sps.js';
import { parseHevcSps, spsFromHevcConfig } from './hevc-sps.js';
import { parseAudioSpecificConfig } from './aac.js';

/**
 * Codec facts for publish.started, read from FLV tag bodies (sequence headers) and metadata.
 * Returns undefined rather than throwing: a stream with an odd header still plays.
 */
const FLV_AUDIO_CODECS: Record<number, string> = {
  0: 'PCM', 1: 'ADPCM', 2: 'MP3', 3: 'PCM', 4: 'Nellymoser', 5: 'Nellymoser', 6: 'Nellymoser',
  7: 'G711A', 8: 'G711U', 10: 'AAC', 11: 'Speex', 14: 'MP3', 15: 'Device',
};
const FLV_VIDEO_CODECS: Record<number, string> = { 2: 'H263', 3: 'Screen', 4: 'VP6', 5: 'VP6A', 6: 'Screen2', 7: 'H264', 12: 'HEVC', 13: 'AV1' };
const FOURCC_CODECS: Record<string, string> = { avc1: 'H264', hvc1: 'HEVC', av01: 'AV1', vp09: 'VP9' };
const FLV_RATES = [5512, 11025, 22050, 44100];

/** Video size and codec from a video sequence header body (legacy or enhanced RTMP). */
export function videoInfoFromSequenceHeader(body: Buffer): Omit<VideoInfo, 'fps'> | undefined {
  try {
    if (body.length < 5) return undefined;
    const b0 = body[0]!;
    let codec: string;
    let record: Buffer;
    if (b0 & 0x80) {
      codec = FOURCC_CODECS[body.toString('latin1', 1, 5)] ?? body.toString('latin1', 1, 5);
      record = body.subarray(5);
    } else {
      codec = FLV_VIDEO_CODECS[b0 & 0x0f] ?? `flv-${b0 & 0x0f}`;
      record = body.subarray(5);
    }
    if (codec === 'H264') return { codec, ...size(parseH264Sps(spsFromAvcConfig(record))) };
    if (codec === 'HEVC') return { codec, ...size(parseHevcSps(spsFromHevcConfig(record))) };
    return { codec, width: 0, height: 0 };
  } catch (err) {
    if (err instanceof CodecParseError || err instanceof RangeError) return undefined;
    throw err;
  }
}

const size = (s: { width: number; height: number }) => ({ width: s.width, height: s.height });

/** Video codec name from any video tag body (for streams whose first frame is not a sequence header). */
export function videoCodecOf(body: Buffer): string | undefined {
  if (body.length < 1) return undefined;
  const b0 = body[0]!;
  if (b0 & 0x80) return body.length >= 5 ? FOURCC_CODECS[body.toString('latin1', 1, 5)] : undefined;
  return FLV_VIDEO_CODECS[b0 & 0x0f];
}

/** Audio codec, rate and channels from an audio tag body (AAC: from the AudioSpecificConfig). */
export function audioInfoFromTag(body: Buffer): AudioInfo | undefined {
  if (body.length < 1) return undefined;
  const format = body[0]! >> 4;
  const codec = FLV_AUDIO_CODECS[format] ?? `flv-${format}`;
  if (format === 10) {
    if (body.length < 4 || body[1] !== 0) return undefined;
    try {
      const asc = parseAudioSpecificConfig(body.subarray(2));
      return { codec, sampleRate: asc.sampleRate, channels: asc.channels };
    } catch (err) {
      if (err instanceof CodecParseError) return undefined;
      throw err;
    }
  }
  const rate = format === 14 ? 8000 : FLV_RATES[(body[0]! >> 2) & 3]!;
  return { codec, sampleRate: rate, channels: (body[0]! & 1) + 1 };
}

/** Frame rate from onMetaData (framerate / videoframerate), or 0. */
export function fpsFromMetadata(meta: Record<string, unknown> | undefined): number {
  const v = meta?.framerate ?? meta?.videoframerate;
  return typeof v === 'number' && Number.isFinite(v) && v > 0 && v < 1000 ? Math.round(v * 1000) / 1000 : 0;
}
