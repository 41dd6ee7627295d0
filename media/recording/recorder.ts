import { createWriteStream, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../core/logging/logger.js';
import type { LiveStreamView, MediaPlugin, MediaPluginContext } from '../plugin.js';
import { FlvSink } from './flv-sink.js';

/** Names that are safe as one path segment (stream names are room ids; publisher ids are decimal). */
const SAFE_SEGMENT = /^[A-Za-z0-9_-]{1,128}$/;

export interface RecorderOptions {
  /** Bytes the file stream may hold unwritten before the recording skips to the next keyframe. */
  maxBufferedBytes?: number;
}

interface Recording {
  view: LiveStreamView;
  sink: FlvSink;
  path: string;
  startedAt: number;
  /** Resolves after the file is closed and record.done was emitted. */
  done: Promise<void>;
}

/**
 * Writes each recorded publish session to `{media.recordingsDir}/{streamName}/{publisherId}.flv`
 * (audio, video and onMetaData only, timestamps from 0). The engine emits 'publish' only after
 * the publish hook allowed it, so a refused publish never opens a file. On unpublish the file is
 * ended, flushed and closed, and only then is `record.done` emitted.
 */
export class Recorder implements MediaPlugin {
  readonly name = 'recorder';
  private ctx: MediaPluginContext | undefined;
  private log: Logger | undefined;
  private readonly recordings = new Map<LiveStreamView, Recording>();
  private readonly maxBuffered: number;

  constructor(options: RecorderOptions = {}) {
    this.maxBuffered = options.maxBufferedBytes ?? 16 * 1024 * 1024;
  }

  start(ctx: MediaPluginContext): void {
    this.ctx = ctx;
    this.log = ctx.log.child({ mod: 'recorder' });
    ctx.streams.on('publish', (view) => this.onPublish(view));
    ctx.streams.on('unpublish', (view) => this.finish(view));
  }

  /** Recordings in progress (stream name -> file path). */
  active(): Map<string, string> {
    return new Map([...this.recordings.values()].map((r) => [r.view.name, r.path]));
  }

  async close(): Promise<void> {
    await Promise.all([...this.recordings.keys()].map((view) => this.finish(view)));
  }

  private onPublish(view: LiveStreamView): void {
    const ctx = this.ctx!;
    const log = this.log!;
    if (!view.record && !ctx.config.media.record) return;
    if (!SAFE_SEGMENT.test(view.name) || !SAFE_SEGMENT.test(view.publisherId)) {
      log.error({ stream: view.name }, 'stream or publisher id is not a safe file name; not recording');
      return;
    }
    const dir = join(ctx.config.media.recordingsDir ?? join(ctx.config.dataDir, 'recordings'), view.name);
    const path = join(dir, `${view.publisherId}.flv`);
    try {
      mkdirSync(dir, { recursive: true });
    } catch (err) {
      log.error({ err, stream: view.name }, 'cannot create the recording folder');
      return;
    }
    const file = createWriteStream(path);
    const closed = new Promise<void>((resolve) => {
      file.once('close', resolve);
    });
    const sink = new FlvSink({ id: `rec-${view.publisherId}`, out: file, log, maxBufferedBytes: this.maxBuffered });
    const startedAt = Date.now();
    const recording: Recording = { view, sink, path, startedAt, done: Promise.resolve() };
    recording.done = closed.then(() => this.emitDone(recording));
    this.recordings.set(view, recording);
    view.addReader(sink);
    log.info({ stream: view.name, path }, 'recording started');
  }

  /** Ends the file (if still open) and waits until it is closed and reported. */
  private finish(view: LiveStreamView): Promise<void> {
    const recording = this.recordings.get(view);
    if (!recording) return Promise.resolve();
    view.removeReader(recording.sink);
    recording.sink.close();
    return recording.done;
  }

  private emitDone(recording: Recording): void {
    this.recordings.delete(recording.view);
    const { view, sink, path, startedAt } = recording;
    const endedAt = Date.now();
    let size = 0;
    try {
      size = statSync(path).size;
    } catch (err) {
      this.log!.error({ err, stream: view.name }, 'recording file vanished before record.done');
      return;
    }
    if (sink.tagsWritten === 0) this.log!.warn({ stream: view.name }, 'recording has no media');
    this.log!.info({ stream: view.name, path, size, dropped: sink.droppedPackets }, 'recording done');
    this.ctx!.emit('record.done', {
      streamName: view.name,
      publisherId: view.publisherId,
      ...(view.sessionId !== undefined ? { sessionId: view.sessionId } : {}),
      path,
      startedAt,
      endedAt,
      // Media time when there was media; the wall clock otherwise.
      durationMs: sink.durationMs > 0 ? sink.durationMs : endedAt - startedAt,
      size,
    });
  }
}
