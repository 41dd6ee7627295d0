import { createWriteStream, mkdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../core/logging/logger.js';
import type { LiveStreamView, MediaPlugin, MediaPluginContext } from '../plugin.js';
import { FlvSink } from './flv-sink.js';
import { markerFor, OPEN_MARKER, recoverRecordings } from './recovery.js';
import { Segmenter } from './segmenter.js';

/** Names that are safe as one path segment (stream names are room ids; publisher ids are decimal). */
const SAFE_SEGMENT = /^[A-Za-z0-9_-]{1,128}$/;

export interface RecorderOptions {
  /** Bytes the file stream may hold unwritten before the recording skips to the next keyframe. */
  maxBufferedBytes?: number;
}

interface Recording {
  view: LiveStreamView;
  segmenter: Segmenter;
  /** One per segment file: resolves after the file is closed and its record.done was emitted. */
  done: Promise<void>[];
  /** The file being written. */
  path: string;
  /** The segment being written: the show's last one once `ended`. */
  current: SegmentFile;
  ended: Promise<void>;
  end: () => void;
}

interface SegmentFile {
  index: number;
  sink: FlvSink;
  path: string;
  startedAt: number;
}

/**
 * Writes each recorded publish session to `{media.recordingsDir}/{streamName}/{publisherId}.flv`
 * (audio, video and onMetaData only, timestamps from 0), or with ONAIR_RECORD_SEGMENT to
 * `{publisherId}-0000.flv`, `-0001.flv`, ... cut on keyframes (segmenter.ts). The engine emits
 * 'publish' only after the publish hook allowed it, so a refused publish never opens a file. Each
 * file is ended, flushed and closed, and only then is its `record.done` emitted (with `segment`).
 */
export class Recorder implements MediaPlugin {
  readonly name = 'recorder';
  private ctx: MediaPluginContext | undefined;
  private log: Logger | undefined;
  private readonly recordings = new Map<LiveStreamView, Recording>();
  private readonly closing = new Set<Promise<void>>();
  private readonly maxBuffered: number;
  /** Files this process is writing or has yet to report (their `.open` markers are not orphans). */
  private readonly owned = new Set<string>();
  private recovery: Promise<unknown> = Promise.resolve();
  private recoveryTimer: NodeJS.Timeout | undefined;

  constructor(options: RecorderOptions = {}) {
    this.maxBuffered = options.maxBufferedBytes ?? 16 * 1024 * 1024;
  }

  start(ctx: MediaPluginContext): void {
    this.ctx = ctx;
    this.log = ctx.log.child({ mod: 'recorder' });
    ctx.streams.on('publish', (view) => this.onPublish(view));
    ctx.streams.on('unpublish', (view) => this.finish(view));
    // Recordings a crashed media process left open (recovery.ts): this host's at once, others' once stale.
    this.recovery = this.recover();
    const every = Math.max(10_000, Math.min(ctx.config.media.recordRecoverAfter, 60_000));
    this.recoveryTimer = setInterval(() => {
      this.recovery = this.recovery.then(() => this.recover());
    }, every);
    this.recoveryTimer.unref();
  }

  /** Closes out orphaned recordings (recovery.ts); answers how many were announced. */
  async recover(): Promise<number> {
    const ctx = this.ctx!;
    const log = this.log!;
    try {
      const n = await recoverRecordings({
        dir: ctx.config.media.recordingsDir ?? join(ctx.config.dataDir, 'recordings'),
        staleMs: ctx.config.media.recordRecoverAfter,
        owned: this.owned,
        emit: (payload) => {
          log.warn({ stream: payload.streamName, path: payload.path, size: payload.size, durationMs: payload.durationMs, segment: payload.segment }, 'recording left open by a media process that died: closed out and announced');
          ctx.emit('record.done', payload);
        },
        warn: (obj, msg) => log.warn(obj, msg),
      });
      return n;
    } catch (err) {
      log.warn({ err }, 'recording recovery scan failed');
      return 0;
    }
  }

  /** Resolves once the recovery scans started so far are done (tests). */
  recovered(): Promise<unknown> {
    return this.recovery;
  }

  /** Recordings in progress (stream name -> file path). */
  active(): Map<string, string> {
    return new Map([...this.recordings.values()].map((r) => [r.view.name, r.path]));
  }

  async close(): Promise<void> {
    clearInterval(this.recoveryTimer);
    await this.recovery;
    await Promise.all([...this.recordings.keys()].map((view) => this.finish(view)));
    await Promise.all([...this.closing]);
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
    try {
      mkdirSync(dir, { recursive: true });
    } catch (err) {
      log.error({ err, stream: view.name }, 'cannot create the recording folder');
      return;
    }
    const segmentMs = ctx.config.media.recordSegment;
    const recording = { view, done: [] as Promise<void>[], path: '' } as Recording;
    recording.ended = new Promise<void>((resolve) => {
      recording.end = resolve;
    });
    const open = (index: number) => {
      const path = join(dir, segmentMs > 0 ? `${view.publisherId}-${String(index).padStart(4, '0')}.flv` : `${view.publisherId}.flv`);
      const startedAt = Date.now();
      // The marker first: a crash from here on leaves a file recovery.ts closes out.
      this.owned.add(path);
      try {
        writeFileSync(`${path}${OPEN_MARKER}`, markerFor({
          streamName: view.name, publisherId: view.publisherId, ...(view.sessionId !== undefined ? { sessionId: view.sessionId } : {}),
          ...(segmentMs > 0 ? { segment: index } : {}), startedAt,
        }));
      } catch (err) {
        log.warn({ err, path }, 'cannot write the recording marker; a crash would leave this file unannounced');
      }
      const file = createWriteStream(path);
      const closed = new Promise<void>((resolve) => {
        file.once('close', resolve);
      });
      const sink = new FlvSink({ id: `rec-${view.publisherId}-${index}`, out: file, log, maxBufferedBytes: this.maxBuffered });
      const seg: SegmentFile = { index, sink, path, startedAt };
      recording.path = path;
      recording.current = seg;
      // Reported in segment order: a segment's file can finish closing before the previous one's
      // (a bigger last write), and consumers list a show's segments as they are announced.
      const previous = recording.done.at(-1) ?? Promise.resolve();
      const endedAt = closed.then(() => Date.now());
      // The segment still being the current one when its file closed is the show's last: it is
      // reported once the show ended (finish()), with `final`, so the transcoder knows the set.
      recording.done.push(Promise.all([endedAt, previous]).then(async ([at]) => {
        if (recording.current === seg) await recording.ended;
        this.emitDone(view, seg, at, recording.current === seg);
      }));
      if (index > 0) log.info({ stream: view.name, path, segment: index }, 'recording segment started');
      return sink;
    };
    recording.segmenter = new Segmenter(`rec-${view.publisherId}`, segmentMs, open);
    this.recordings.set(view, recording);
    view.addReader(recording.segmenter);
    log.info({ stream: view.name, path: recording.path, segmentMs }, 'recording started');
  }

  /** Ends the file (if still open) and waits until every segment is closed and reported. */
  private async finish(view: LiveStreamView): Promise<void> {
    const recording = this.recordings.get(view);
    if (!recording) return;
    view.removeReader(recording.segmenter);
    recording.end();
    recording.segmenter.close();
    this.recordings.delete(view);
    const all = Promise.all(recording.done).then(() => undefined);
    // close() waits for files whose stream already ended but are still being flushed and reported.
    this.closing.add(all);
    await all.finally(() => this.closing.delete(all));
  }

  private emitDone(view: LiveStreamView, seg: SegmentFile, endedAt: number, final: boolean): void {
    const { sink, path, startedAt } = seg;
    const settled = () => {
      try {
        unlinkSync(`${path}${OPEN_MARKER}`);
      } catch {
        // no marker (it could not be written): nothing to remove
      }
      this.owned.delete(path);
    };
    let size = 0;
    try {
      size = statSync(path).size;
    } catch (err) {
      this.log!.error({ err, stream: view.name }, 'recording file vanished before record.done');
      settled();
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
      ...(this.ctx!.config.media.recordSegment > 0 ? { segment: seg.index } : {}),
      ...(final ? { final: true } : {}),
    });
    settled();
  }
}
