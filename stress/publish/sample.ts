/**
 * The published sample: encoded once with ffmpeg from lavfi sources (testsrc2 + sine) at the asked
 * bitrate, size, fps and GOP, kept in a cache folder, then looped with -c copy by every publisher.
 * CBR (nal-hrd=cbr) so the stream carries the asked bitrate even for an easy test pattern.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, existsSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SampleOptions } from '../options.js';

export function defaultCacheDir(): string {
  return join(tmpdir(), 'onair-stress');
}

export function sampleName(o: SampleOptions): string {
  return `sample-${o.width}x${o.height}-${o.fps}fps-v${o.videoKbps}k-a${o.audioKbps}k-gop${o.gopSeconds}s-${o.seconds}s.flv`;
}

export function sampleArgs(o: SampleOptions, out: string): string[] {
  const v = `${o.videoKbps}k`;
  return [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=${o.width}x${o.height}:rate=${o.fps}`,
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100',
    '-t', String(o.seconds),
    '-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'main', '-pix_fmt', 'yuv420p',
    '-b:v', v, '-minrate', v, '-maxrate', v, '-bufsize', v,
    '-x264-params', 'nal-hrd=cbr:force-cfr=1',
    '-g', String(o.fps * o.gopSeconds), '-keyint_min', String(o.fps * o.gopSeconds), '-sc_threshold', '0', '-bf', '0',
    '-c:a', 'aac', '-b:a', `${o.audioKbps}k`, '-ar', '44100', '-ac', '2',
    '-f', 'flv', out,
  ];
}

/** Path of the cached sample, encoding it first when missing. */
export async function ensureSample(o: SampleOptions, cacheDir = defaultCacheDir(), ffmpeg = 'ffmpeg'): Promise<string> {
  mkdirSync(cacheDir, { recursive: true });
  const path = join(cacheDir, sampleName(o));
  if (existsSync(path)) return path;
  const tmp = `${path}.${process.pid}.tmp`;
  await new Promise<void>((resolve, reject) => {
    const child = spawn(ffmpeg, sampleArgs(o, tmp), { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`ffmpeg could not encode the sample (exit ${code}): ${err.trim()}`));
    });
  });
  try {
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  return path;
}
