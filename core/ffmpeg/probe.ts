import { probeArgs } from './args.js';
import { ffprobeBinary, FfmpegError, runCapture } from './process.js';

/** What onair keeps of ffprobe's answer: enough for a replay row and to refuse an empty file. */
export interface MediaProbe {
  /** Container names as ffprobe reports them, e.g. 'mov,mp4,m4a,3gp,3g2,mj2' or 'flv'. */
  format: string;
  durationMs: number;
  size: number;
  bitRate: number | null;
  video: { codec: string; width: number; height: number; fps: number | null } | null;
  audio: { codec: string; sampleRate: number | null; channels: number | null } | null;
}

interface ProbeJson {
  format?: { format_name?: string; duration?: string; size?: string; bit_rate?: string };
  streams?: Array<{ codec_type?: string; codec_name?: string; width?: number; height?: number; avg_frame_rate?: string; r_frame_rate?: string; sample_rate?: string; channels?: number; duration?: string }>;
}

/** Reads a media file's container and first video/audio streams with ffprobe. */
export async function probeMedia(file: string, options: { signal?: AbortSignal; timeoutMs?: number; binary?: string } = {}): Promise<MediaProbe> {
  const text = await runCapture(options.binary ?? ffprobeBinary(), probeArgs(file), { timeoutMs: options.timeoutMs ?? 60_000, ...(options.signal ? { signal: options.signal } : {}) });
  let json: ProbeJson;
  try {
    json = JSON.parse(text) as ProbeJson;
  } catch (cause) {
    throw new FfmpegError('ffprobe did not print JSON', text.slice(0, 300), 0, { code: 'ffprobe_output', cause });
  }
  return readProbe(json);
}

/** The pure half of probeMedia (table-tested). */
export function readProbe(json: ProbeJson): MediaProbe {
  const streams = json.streams ?? [];
  const v = streams.find((s) => s.codec_type === 'video');
  const a = streams.find((s) => s.codec_type === 'audio');
  const formatDuration = num(json.format?.duration);
  // Some containers (FLV without onMetaData duration) have no format duration: take the longest stream.
  const streamDuration = Math.max(0, ...streams.map((s) => num(s.duration) ?? 0));
  return {
    format: json.format?.format_name ?? 'unknown',
    durationMs: Math.round((formatDuration ?? streamDuration) * 1000),
    size: num(json.format?.size) ?? 0,
    bitRate: num(json.format?.bit_rate),
    video: v ? { codec: v.codec_name ?? 'unknown', width: v.width ?? 0, height: v.height ?? 0, fps: rate(v.avg_frame_rate) ?? rate(v.r_frame_rate) } : null,
    audio: a ? { codec: a.codec_name ?? 'unknown', sampleRate: num(a.sample_rate), channels: a.channels ?? null } : null,
  };
}

function num(v: string | undefined): number | null {
  if (v === undefined || v === 'N/A') return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

/** '30000/1001' -> 29.97; '0/0' -> null. */
function rate(v: string | undefined): number | null {
  if (!v) return null;
  const [n, d] = v.split('/').map(Number);
  if (!n || !d) return null;
  return Math.round((n / d) * 1000) / 1000;
}
