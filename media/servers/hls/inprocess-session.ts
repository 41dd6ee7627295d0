import { mkdirSync, rmSync } from 'node:fs';
import type { Logger } from '../../../core/logging/logger.js';
import type { LiveStreamView } from '../../plugin.js';
import { TsSegmenter } from './ts-segmenter.js';

export interface InProcessHlsSessionOptions {
  /** Folder of this stream's playlist and segments; removed when the session closes. */
  dir: string;
  segmentSeconds: number;
  listSize: number;
  log: Logger;
}

/**
 * HLS for one live stream without a child process: a TsSegmenter reading the hub. A republish
 * gets a new session, so a new folder and a new playlist (media sequence from 0).
 */
export class InProcessHlsSession {
  private segmenter: TsSegmenter | undefined;
  private closed = false;

  constructor(
    readonly view: LiveStreamView,
    private readonly o: InProcessHlsSessionOptions,
  ) {}

  start(): void {
    rmSync(this.o.dir, { recursive: true, force: true }); // leftovers of a crashed process
    mkdirSync(this.o.dir, { recursive: true });
    this.segmenter = new TsSegmenter({
      id: `hls-${this.view.publisherId}`,
      dir: this.o.dir,
      segmentMs: this.o.segmentSeconds * 1000,
      listSize: this.o.listSize,
      log: this.o.log,
    });
    // The hub replays metadata, sequence headers and the current GOP first: the first segment starts at a keyframe.
    this.view.addReader(this.segmenter);
  }

  /** The live playlist as last written (served from memory). */
  get playlistText(): string | undefined {
    return this.segmenter?.playlistText;
  }

  get segmentsWritten(): number {
    return this.segmenter?.segmentsWritten ?? 0;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const s = this.segmenter;
    if (s) {
      this.view.removeReader(s);
      await s.close();
    }
    rmSync(this.o.dir, { recursive: true, force: true });
  }
}
