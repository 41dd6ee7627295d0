import { runFfmpeg } from './process.js';

/**
 * Media made at test time (nothing binary is committed): ffmpeg's testsrc2 picture and a sine tone,
 * encoded H.264 + AAC with a keyframe every `gopSeconds`, in FLV (what the recorder writes) or MP4.
 * Used by tests and bench:transcode.
 */
export interface TestMediaOptions {
  seconds: number;
  width?: number;
  height?: number;
  fps?: number;
  gopSeconds?: number;
  format?: 'flv' | 'mp4';
  audio?: boolean;
  /** Video bitrate cap, e.g. '2500k' (default: the encoder's choice). */
  videoBitrate?: string;
}

export async function makeTestMedia(output: string, options: TestMediaOptions): Promise<void> {
  const { seconds, width = 320, height = 180, fps = 25, gopSeconds = 1, format = 'flv', audio = true, videoBitrate } = options;
  const gop = Math.max(1, Math.round(fps * gopSeconds));
  await runFfmpeg([
    '-hide_banner', '-nostdin', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=${fps}`,
    ...(audio ? ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100'] : []),
    '-t', String(seconds),
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p',
    '-g', String(gop), '-keyint_min', String(gop), '-sc_threshold', '0',
    ...(videoBitrate ? ['-b:v', videoBitrate, '-maxrate', videoBitrate, '-bufsize', videoBitrate] : []),
    ...(audio ? ['-c:a', 'aac', '-b:a', '64k'] : []),
    '-f', format, output,
  ], { timeoutMs: 120_000 });
}

/**
 * A long recording from a short clip without encoding again: the clip's packets repeated `loops`
 * times (`-stream_loop`, timestamps continue), written as FLV. How bench:transcode makes an hour of
 * 720p in seconds.
 */
export async function loopMedia(clip: string, output: string, loops: number): Promise<void> {
  await runFfmpeg([
    '-hide_banner', '-nostdin', '-loglevel', 'error', '-y',
    '-stream_loop', String(Math.max(0, loops - 1)), '-i', clip, '-c', 'copy', '-f', 'flv', output,
  ], { timeoutMs: 600_000 });
}
