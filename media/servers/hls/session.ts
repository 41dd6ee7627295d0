import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import type { Logger } from '../../../core/logging/logger.js';
import type { LiveStreamView } from '../../plugin.js';
import { FlvSink } from '../../recording/flv-sink.js';
import { HLS_SEGMENT_PATTERN } from '../../protocols/hls/ffmpeg-hls-args.js';
import { lastSegmentNumber } from '../../protocols/hls/playlist.js';
import { HlsMuxer } from './muxer.js';

export interface HlsSessionOptions {
  ffmpegPath: string;
  /** Folder of this stream's playlist and segments; removed when the session closes. */
  dir: string;
  segmentSeconds: number;
  listSize: number;
  /** ffmpeg crashes tolerated per publish before HLS gives up for that stream. */
  maxRestarts: number;
  restartDelayMs: number;
  /** How long ffmpeg may take to finish after stdin ends before it is killed. */
  stopGraceMs: number;
  /** Bytes ffmpeg's stdin may hold before the feed skips to the next keyframe. */
  maxBufferedBytes: number;
  log: Logger;
}

/**
 * HLS for one live stream: an ffmpeg child fed the stream as FLV, restarted (a bounded number of
 * times) if it crashes, and the folder removed when the stream ends.
 */
export class HlsSession {
  restarts = 0;
  private muxer: HlsMuxer | undefined;
  private sink: FlvSink | undefined;
  private closed = false;
  private restartTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly view: LiveStreamView,
    private readonly o: HlsSessionOptions,
  ) {}

  start(): void {
    rmSync(this.o.dir, { recursive: true, force: true }); // leftovers of a crashed process
    mkdirSync(this.o.dir, { recursive: true });
    this.spawn(false);
  }

  get ffmpegPid(): number | undefined {
    return this.muxer?.pid;
  }

  /** Stops ffmpeg (stdin end, then SIGKILL after the grace period) and removes the folder. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.restartTimer);
    this.detachSink();
    await this.muxer?.stop(this.o.stopGraceMs);
    rmSync(this.o.dir, { recursive: true, force: true });
  }

  private spawn(isRestart: boolean): void {
    let startNumber = 0;
    if (isRestart) {
      try {
        startNumber = lastSegmentNumber(readdirSync(this.o.dir), HLS_SEGMENT_PATTERN) + 1;
      } catch {
        mkdirSync(this.o.dir, { recursive: true });
      }
    }
    const muxer = new HlsMuxer(this.o.ffmpegPath, {
      dir: this.o.dir,
      segmentSeconds: this.o.segmentSeconds,
      listSize: this.o.listSize,
      startNumber,
      discontinuity: isRestart,
    }, this.o.log);
    muxer.on('exit', (e) => this.onExit(muxer, e));
    this.muxer = muxer;
    const stdin = muxer.start();
    this.sink = new FlvSink({
      id: `hls-${this.view.publisherId}-${this.restarts}`,
      out: stdin,
      log: this.o.log,
      maxBufferedBytes: this.o.maxBufferedBytes,
    });
    // The hub replays metadata, sequence headers and the current GOP first, so a restarted
    // ffmpeg starts cleanly at a keyframe.
    this.view.addReader(this.sink);
    this.o.log.debug({ pid: muxer.pid, restart: isRestart }, 'HLS ffmpeg started');
  }

  private detachSink(): void {
    if (!this.sink) return;
    this.view.removeReader(this.sink);
    this.sink.close();
    this.sink = undefined;
  }

  private onExit(muxer: HlsMuxer, e: { code: number | null; signal: NodeJS.Signals | null; expected: boolean; stderr: string }): void {
    // An exit after the stream ended (our feed closed stdin) is the normal end, not a crash.
    if (this.closed || e.expected || muxer !== this.muxer || this.sink?.isClosed) return;
    this.detachSink();
    this.o.log.error({ code: e.code, signal: e.signal, stderr: e.stderr.trim().slice(-500) }, 'HLS ffmpeg exited unexpectedly');
    if (this.restarts >= this.o.maxRestarts) {
      this.o.log.error({ restarts: this.restarts }, 'HLS ffmpeg keeps failing; HLS is off for this publish');
      return;
    }
    this.restarts++;
    this.restartTimer = setTimeout(() => {
      if (!this.closed) this.spawn(true);
    }, this.o.restartDelayMs);
  }
}
