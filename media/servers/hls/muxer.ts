import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from '../../../core/logging/logger.js';
import { TypedEmitter } from '../../../core/events/typed-emitter.js';
import { ffmpegHlsArgs, type FfmpegHlsOptions } from '../../protocols/hls/ffmpeg-hls-args.js';

export interface HlsMuxerEvents {
  [name: string]: unknown[];
  /** ffmpeg exited; `expected` is true when stop() asked it to. */
  exit: [{ code: number | null; signal: NodeJS.Signals | null; expected: boolean; stderr: string }];
}

/** Last bytes of ffmpeg's stderr kept for the log line when it fails. */
const STDERR_TAIL = 2048;

/**
 * One ffmpeg child that reads FLV on stdin and writes HLS into a folder. The session owns its
 * lifecycle: start() spawns, stop() ends stdin (ffmpeg finishes the last segment and exits) and
 * kills it if it has not exited within the grace period.
 */
export class HlsMuxer extends TypedEmitter<HlsMuxerEvents> {
  private child: ChildProcessByStdio<Writable, null, Readable> | undefined;
  private stopping = false;
  private exited: Promise<void> = Promise.resolve();
  private stderrTail = '';

  constructor(
    private readonly ffmpegPath: string,
    private readonly options: FfmpegHlsOptions,
    private readonly log: Logger,
  ) {
    super();
    this.emitterLog = log;
  }

  /** Spawns ffmpeg and returns its stdin, to be fed an FLV byte stream. */
  start(): Writable {
    const child = spawn(this.ffmpegPath, ffmpegHlsArgs(this.options), { stdio: ['pipe', 'ignore', 'pipe'] });
    this.child = child;
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      this.stderrTail = (this.stderrTail + text).slice(-STDERR_TAIL);
    });
    this.exited = new Promise((resolve) => {
      let reported = false;
      const report = (code: number | null, signal: NodeJS.Signals | null) => {
        if (reported) return;
        reported = true;
        resolve();
        this.safeEmit('exit', { code, signal, expected: this.stopping, stderr: this.stderrTail });
      };
      child.once('exit', report);
      child.once('error', (err) => {
        // Spawn failure (ffmpeg not found at the configured path): reported as an exit.
        this.stderrTail += String(err.message);
        report(null, null);
      });
    });
    return child.stdin;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Ends stdin so ffmpeg writes its last segment; SIGKILL after `graceMs`. Resolves on exit. */
  async stop(graceMs: number): Promise<void> {
    const child = this.child;
    if (!child || this.stopping) return this.exited;
    this.stopping = true;
    if (child.exitCode !== null || child.signalCode !== null) return this.exited;
    child.stdin.end();
    const timer = setTimeout(() => {
      this.log.warn({ pid: child.pid }, 'ffmpeg (HLS) did not exit after stdin ended; killing it');
      child.kill('SIGKILL');
    }, graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}
