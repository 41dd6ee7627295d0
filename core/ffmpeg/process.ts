import { spawn } from 'node:child_process';
import { OnairError } from '../errors.js';
import { ProgressParser, type FfmpegProgress } from './progress.js';

/**
 * Runs the Debian ffmpeg/ffprobe binaries (no fluent-ffmpeg: archived upstream, and a wrapper is
 * not needed for argv built by args.ts). One child per call; its stderr (errors only, see args.ts)
 * is kept, bounded, for the error message; its stdout is the `-progress` stream (ffmpeg) or the
 * JSON document (ffprobe).
 */

/** ffmpeg or ffprobe exited non-zero, was killed, timed out or could not start. `stderr` is its last words. */
export class FfmpegError extends OnairError {
  constructor(message: string, readonly stderr: string, readonly exitCode: number | null, options?: { cause?: unknown; code?: string }) {
    super(options?.code ?? 'ffmpeg_failed', message, options);
    this.name = 'FfmpegError';
  }
}

export interface RunOptions {
  /** Called for each progress block (ffmpeg with `-progress pipe:1`). */
  onProgress?: (p: FfmpegProgress) => void;
  /** Kills the child (SIGKILL) and rejects when it fires. */
  signal?: AbortSignal;
  /** Kills the child after this long (default: none). */
  timeoutMs?: number;
  /** Binary to run (default 'ffmpeg'): config.media.ffmpegPath. */
  binary?: string;
}

const STDERR_KEEP = 8 * 1024;

/** The binaries run when the caller names none (config.media.ffmpegPath / config.transcoder.ffprobePath name them in roles). */
export const ffmpegBinary = (): string => 'ffmpeg';
export const ffprobeBinary = (): string => 'ffprobe';

/** Runs ffmpeg with `args`; resolves when it exits 0. */
export async function runFfmpeg(args: string[], options: RunOptions = {}): Promise<void> {
  const parser = options.onProgress ? new ProgressParser(options.onProgress) : null;
  await run(options.binary ?? ffmpegBinary(), args, options, (chunk) => parser?.feed(chunk));
}

/** Runs ffprobe (or another binary) and returns its whole stdout. */
export async function runCapture(binary: string, args: string[], options: Omit<RunOptions, 'onProgress' | 'binary'> = {}): Promise<string> {
  const out: Buffer[] = [];
  await run(binary, args, options, (chunk) => out.push(chunk));
  return Buffer.concat(out).toString('utf8');
}

function run(binary: string, args: string[], options: RunOptions, onStdout: (chunk: Buffer) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(new FfmpegError(`${binary} aborted before it started`, '', null, { code: 'ffmpeg_aborted', cause: options.signal.reason }));
      return;
    }
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let why: { code: string; message: string } | null = null;
    child.stdout.on('data', onStdout);
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-STDERR_KEEP);
    });
    const kill = (code: string, message: string) => {
      why ??= { code, message };
      child.kill('SIGKILL');
    };
    const onAbort = () => kill('ffmpeg_aborted', `${binary} aborted`);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = options.timeoutMs ? setTimeout(() => kill('ffmpeg_timeout', `${binary} took longer than ${options.timeoutMs} ms`), options.timeoutMs) : null;
    const done = () => {
      if (timer) clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    };
    child.once('error', (err) => {
      done();
      reject(new FfmpegError(`cannot run ${binary}: ${err.message}`, stderr, null, { code: 'ffmpeg_missing', cause: err }));
    });
    child.once('close', (code, sig) => {
      done();
      if (why) reject(new FfmpegError(why.message, stderr.trim(), code, { code: why.code }));
      else if (code === 0) resolve();
      else reject(new FfmpegError(`${binary} exited with ${code ?? sig}: ${lastLine(stderr) || 'no message'}`, stderr.trim(), code));
    });
  });
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n');
  return (lines[lines.length - 1] ?? '').slice(0, 300);
}
