import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, realpath, rm, stat, unlink } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { hostname } from 'node:os';
import type { Consumer, EventBus, AnyDelivery } from '../core/event-bus/event-bus.port.js';
import type { BusEvents } from '../core/events/bus-events.js';
import { busPublishOptions, checkEventVersion, parseDomainEvent, type DomainEvents } from '../core/events/domain-events.js';
import type { Logger } from '../core/logging/logger.js';
import type { ObjectStore } from '../core/object-store/object-store.port.js';
import { joinedObjectKey, readyToJoin, segmentObjectKeys } from '../core/replays/replay.js';
import type { ReplayStore } from '../core/replays/replay.store.js';
import type { Replay, ReplaySegment } from '../core/replays/replay.js';
import type { TranscoderMetrics } from './metrics.js';
import { joinSegments, transcodeRecording, UnusableRecordingError } from './transcode-job.js';

/** The consumer group every transcoder process joins: each recording is leased to one of them at a time. */
export const TRANSCODER_GROUP = 'transcoder';

export interface TranscoderWorkerOptions {
  bus: EventBus<BusEvents>;
  replays: ReplayStore;
  objects: ObjectStore;
  log: Logger;
  metrics?: TranscoderMetrics;
  /** Recordings are read only from inside this folder (after resolving links). */
  recordingsDir: string;
  /** Temporary files (one folder per job) live under this one. */
  workDir: string;
  keepSource: boolean;
  /** Keep a joined show's per-segment MP4 objects (default false: removed once the joined object is verified). */
  keepSegments?: boolean;
  /** Upload the MP4 while ffmpeg writes it (config transcoder.uploadDuringRemux; default off). */
  uploadDuringRemux?: boolean;
  concurrency: number;
  /** The bus lease of a job: another transcoder takes it over after this long without an answer. */
  leaseMs: number;
  maxAttempts: number;
  backoffMs: number;
  ffmpegPath?: string;
  ffprobePath?: string;
  ffmpegTimeoutMs: number;
  /** Consumer name within the group (default host:pid). */
  consumerName?: string;
}

type Recording = DomainEvents['recording.finished'];

/**
 * The transcoder: consumes `recording.finished` in the `transcoder` group and makes each recording
 * a replay segment (transcode-job.ts), then records it (ReplayStore), emits `replay.ready` and
 * deletes or keeps the source by policy.
 *
 * Crash safety comes from the bus: a delivery stays leased to this consumer until the handler
 * returns; a process killed mid-remux or mid-upload never acknowledges it, so after the lease
 * (ONAIR_TRANSCODER_LEASE) another transcoder gets it again. Every step is repeatable: object keys
 * are derived from the recording (an upload run twice replaces its own object), the segment row is
 * unique by the recording's eventId, replay.ready has a stable eventId, and the source is deleted
 * only after the row is committed. A job that keeps failing is dead-lettered with its error by the
 * bus after ONAIR_TRANSCODER_MAX_ATTEMPTS deliveries.
 */
export class TranscoderWorker {
  private consumer: Consumer | undefined;
  private readonly running = new Map<string, number>();

  constructor(private readonly o: TranscoderWorkerOptions) {}

  async start(): Promise<void> {
    await mkdir(this.o.workDir, { recursive: true });
    await this.sweepWorkDir();
    this.consumer = this.o.bus.consume(TRANSCODER_GROUP, (d) => this.handle(d), {
      consumer: this.o.consumerName ?? `transcoder:${hostname()}:${process.pid}`,
      // One lease per job actually worked on: a bigger batch would start the lease clock of jobs still waiting here.
      batchSize: this.o.concurrency,
      concurrency: this.o.concurrency,
      maxAttempts: this.o.maxAttempts,
      backoffMs: this.o.backoffMs,
      visibilityTimeoutMs: this.o.leaseMs,
    });
    this.consumer.on('retried', (d, err, retryAt) => {
      if (d.name !== 'recording.finished') return;
      this.o.metrics?.jobs.inc({ result: 'failed' });
      this.o.log.warn({ err, busId: d.id, attempt: d.attempt, retryAt }, 'recording job failed; it will be retried');
    });
    this.consumer.on('dead', (d, err) => {
      if (d.name !== 'recording.finished') return;
      this.o.metrics?.jobs.inc({ result: 'dead' });
      this.o.log.error({ err, busId: d.id, attempt: d.attempt }, 'recording job dead-lettered');
    });
    this.consumer.on('error', (err) => this.o.log.warn({ err }, 'event bus unavailable; the transcoder keeps trying'));
    this.o.log.info({ group: TRANSCODER_GROUP, consumer: this.consumer.name, concurrency: this.o.concurrency, leaseMs: this.o.leaseMs }, 'transcoder consuming recording.finished');
  }

  /** Stops taking jobs and waits for the running ones; a job cut short is re-delivered after its lease. Idempotent. */
  async stop(): Promise<void> {
    await this.consumer?.stop();
  }

  private async handle(d: AnyDelivery<BusEvents>): Promise<void> {
    if (d.name !== 'recording.finished') return;
    checkEventVersion(d.name, d.version);
    const rec = parseDomainEvent('recording.finished', d.payload);
    const log = this.o.log.child({ recording: rec.eventId, room: rec.roomId, segment: rec.segment, attempt: d.attempt });

    // Done before (a crash after the commit, or a duplicate event): finish the tail and stop.
    const existing = await this.o.replays.findSegmentBySource(rec.eventId);
    if (existing) {
      this.o.metrics?.jobs.inc({ result: 'duplicate' });
      log.info({ replay: existing.replayId }, 'recording already a replay segment; finishing what was left');
      await this.announce(rec, existing.replayId, existing);
      await this.joinIfComplete(existing.replayId, log);
      await this.disposeSource(rec, log);
      return;
    }

    const source = await this.sourcePath(rec);
    const workDir = join(this.o.workDir, `${createHash('sha256').update(rec.eventId).digest('hex').slice(0, 16)}-${randomBytes(4).toString('hex')}`);
    await mkdir(workDir, { recursive: true });
    const keys = segmentObjectKeys(rec.roomId, rec.publisherId, rec.segment);
    this.running.set(workDir, 0);
    this.o.metrics?.running.inc();
    let lastLog = 0;
    const t0 = Date.now();
    log.info({ source, key: keys.video }, 'transcoding recording');
    try {
      const result = await transcodeRecording({ source, workDir, videoKey: keys.video, posterKey: keys.poster, durationHintMs: rec.durationMs, uploadDuringRemux: this.o.uploadDuringRemux === true }, {
        store: this.o.objects,
        ffmpegTimeoutMs: this.o.ffmpegTimeoutMs,
        ...(this.o.ffmpegPath ? { ffmpegPath: this.o.ffmpegPath } : {}),
        ...(this.o.ffprobePath ? { ffprobePath: this.o.ffprobePath } : {}),
        onProgress: (_stage, p) => {
          this.running.set(workDir, p.outTimeMs / 1000);
          this.o.metrics?.progressSeconds.set([...this.running.values()].reduce((a, b) => a + b, 0));
          if (p.speed !== null) this.o.metrics?.speedRatio.set(p.speed);
          if (p.end || Date.now() - lastLog >= 5_000) {
            lastLog = Date.now();
            log.info({ mediaMs: p.outTimeMs, ofMs: rec.durationMs, bytes: p.totalSize, speed: p.speed }, 'remux progress');
          }
        },
        onStage: (stage, ms) => this.o.metrics?.stageSeconds.observe({ stage }, ms / 1000),
      });
      const { probe, video, poster } = result;
      this.o.metrics?.uploadedBytes.inc(video.size + (poster?.size ?? 0));
      const { replay, segment, created } = await this.o.replays.addSegment({
        sourceEventId: rec.eventId, roomId: rec.roomId, sessionId: rec.sessionId ?? null, publisherId: rec.publisherId,
        segment: rec.segment, objectKey: video.key, posterKey: poster?.key ?? null, durationMs: probe.durationMs, size: video.size,
        md5: video.md5, videoCodec: probe.video?.codec.slice(0, 16) ?? null, audioCodec: probe.audio?.codec.slice(0, 16) ?? null,
        width: probe.video?.width ?? null, height: probe.video?.height ?? null, startedAt: rec.startedAt, endedAt: rec.endedAt,
        ...(rec.final ? { final: true } : {}),
      }, (id) => `/api/v1/replays/${id}`);
      this.o.metrics?.jobs.inc({ result: created ? 'done' : 'duplicate' });
      this.o.metrics?.jobSeconds.observe((Date.now() - t0) / 1000);
      this.o.metrics?.mediaSeconds.inc(probe.durationMs / 1000);
      log.info({
        replay: replay.id, key: video.key, durationMs: probe.durationMs, size: video.size, poster: poster?.key ?? null,
        video: probe.video?.codec, audio: probe.audio?.codec, remux: result.remux, tracks: result.tracks, tookMs: Date.now() - t0,
        xRealtime: Math.round(probe.durationMs / Math.max(1, Date.now() - t0)),
      }, 'replay segment ready');
      await this.announce(rec, replay.id, segment);
      await this.joinIfComplete(replay.id, log);
      await this.disposeSource(rec, log);
    } finally {
      this.running.delete(workDir);
      this.o.metrics?.running.dec();
      this.o.metrics?.progressSeconds.set([...this.running.values()].reduce((a, b) => a + b, 0));
      await rm(workDir, { recursive: true, force: true }).catch((err: unknown) => log.warn({ err, workDir }, 'could not remove the work folder'));
    }
  }

  /**
   * A show recorded in segments becomes one MP4 once its last segment (recording.finished `final`)
   * and every one before it are in, whichever segment's job completes the set (segments are
   * transcoded in parallel, in any order). Runs inside that segment's delivery, so a transcoder
   * killed mid-join leaves the delivery unacknowledged and the job that takes it over joins again
   * (the `existing` path); the object key is deterministic and the row is written only while the
   * replay has no joined object, so two joins racing still make one object and one row. Then the
   * segment objects are removed, or kept with ONAIR_REPLAY_KEEP_SEGMENTS (removeSegments).
   */
  private async joinIfComplete(replayId: string, log: Logger): Promise<void> {
    const replay = await this.o.replays.get(replayId);
    if (replay?.joined) return this.removeSegments(replay, log);
    if (!replay || !readyToJoin(replay, replay.segments)) return;
    const segments = replay.segments.filter((s) => s.segment <= replay.lastSegment!);
    const key = joinedObjectKey(replay.roomId, replay.publisherId);
    const workDir = join(this.o.workDir, `join-${replayId}-${randomBytes(4).toString('hex')}`);
    await mkdir(workDir, { recursive: true });
    const t0 = Date.now();
    try {
      const { probe, video } = await joinSegments({ segmentKeys: segments.map((s) => s.objectKey), workDir, key }, {
        store: this.o.objects,
        ffmpegTimeoutMs: this.o.ffmpegTimeoutMs,
        ...(this.o.ffmpegPath ? { ffmpegPath: this.o.ffmpegPath } : {}),
        ...(this.o.ffprobePath ? { ffprobePath: this.o.ffprobePath } : {}),
      });
      this.o.metrics?.stageSeconds.observe({ stage: 'join' }, (Date.now() - t0) / 1000);
      this.o.metrics?.uploadedBytes.inc(video.size);
      const recorded = await this.o.replays.setJoined(replayId, replay.segmentCount, { objectKey: video.key, size: video.size, md5: video.md5, durationMs: probe.durationMs });
      const sum = segments.reduce((a, s) => a + s.durationMs, 0);
      log.info({ replay: replayId, key, segments: segments.length, durationMs: probe.durationMs, segmentsMs: sum, size: video.size, recorded, tookMs: Date.now() - t0 }, 'show joined into one MP4');
      const now = await this.o.replays.get(replayId);
      if (now?.joined) await this.removeSegments(now, log);
      await this.o.bus.publish('replay.ready', {
        eventId: `replay.ready:joined:${replayId}`, at: Date.now(), replayId, roomId: replay.roomId,
        ...(replay.sessionId ? { sessionId: replay.sessionId } : {}),
        objectKey: video.key, posterKey: replay.posterKey, durationMs: probe.durationMs, size: video.size,
      }, busPublishOptions('replay.ready', replay.roomId));
    } finally {
      await rm(workDir, { recursive: true, force: true }).catch((err: unknown) => log.warn({ err, workDir }, 'could not remove the work folder'));
    }
  }

  /**
   * A joined show's per-segment MP4s are removed (ONAIR_REPLAY_KEEP_SEGMENTS=false, the default)
   * once the joined object recorded on the replay is in the store at its recorded size (it was
   * verified by size and MD5 when uploaded): first the replay is marked (the API stops handing out
   * segment URLs), then each object is removed. Posters stay (the replay's poster is segment 0's).
   * Repeatable: a transcoder killed half way leaves the delivery unacknowledged, and the job that
   * takes it over comes here again (removing an absent object is no error).
   */
  private async removeSegments(replay: Replay & { segments: ReplaySegment[] }, log: Logger): Promise<void> {
    if (this.o.keepSegments || !replay.joined) return;
    const joined = await this.o.objects.stat(replay.joined.objectKey);
    if (!joined || joined.size !== replay.joined.size) {
      log.warn({ replay: replay.id, key: replay.joined.objectKey, stored: joined?.size ?? null, recorded: replay.joined.size }, 'joined object missing or of another size; segment objects kept');
      return;
    }
    await this.o.replays.markSegmentsRemoved(replay.id);
    for (const s of replay.segments) {
      if (s.objectKey !== replay.joined.objectKey) await this.o.objects.delete(s.objectKey);
    }
    if (!replay.segmentsRemovedAt) log.info({ replay: replay.id, segments: replay.segments.length }, 'segment objects removed; the joined MP4 is the replay');
  }

  /** replay.ready, with an eventId stable across re-runs (consumers deduplicate on it). */
  private async announce(rec: Recording, replayId: string, seg: { objectKey: string; posterKey: string | null; durationMs: number; size: number }): Promise<void> {
    await this.o.bus.publish('replay.ready', {
      eventId: `replay.ready:${rec.eventId}`.slice(0, 191), at: Date.now(), replayId, roomId: rec.roomId,
      ...(rec.sessionId !== undefined ? { sessionId: rec.sessionId } : {}),
      objectKey: seg.objectKey, posterKey: seg.posterKey, durationMs: seg.durationMs, size: seg.size,
    }, busPublishOptions('replay.ready', rec.roomId));
  }

  /** After the row is committed: delete the recording (ONAIR_RECORD_KEEP_SOURCE=false, the default) or keep it. */
  private async disposeSource(rec: Recording, log: Logger): Promise<void> {
    if (this.o.keepSource || !rec.file.path) return;
    const path = await this.sourcePath(rec).catch(() => null);
    if (!path) return;
    await unlink(path).then(() => log.info({ path }, 'source recording deleted'), (err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') log.warn({ err, path }, 'could not delete the source recording');
    });
  }

  /**
   * The recording's file, only inside the recordings folder (after resolving links): an event names
   * a path, and the transcoder must never read (and upload) anything else on the machine.
   */
  private async sourcePath(rec: Recording): Promise<string> {
    if (!rec.file.path) throw new UnusableRecordingError('the recording has no local file (vendor URL recordings are not transcoded)');
    let real: string;
    let root: string;
    try {
      [real, root] = await Promise.all([realpath(rec.file.path), realpath(this.o.recordingsDir)]);
    } catch (cause) {
      throw new UnusableRecordingError(`recording file not found: ${rec.file.path}`, { cause });
    }
    if (!real.startsWith(root + sep)) throw new UnusableRecordingError(`recording file is outside the recordings folder: ${rec.file.path}`);
    if (!(await stat(real)).isFile()) throw new UnusableRecordingError(`recording is not a file: ${rec.file.path}`);
    return real;
  }

  /** Work folders left by a process that died (older than one lease: nobody is using them). */
  private async sweepWorkDir(): Promise<void> {
    const now = Date.now();
    for (const name of await readdir(this.o.workDir).catch(() => [] as string[])) {
      const dir = join(this.o.workDir, name);
      const st = await stat(dir).catch(() => null);
      if (st && now - st.mtimeMs > this.o.leaseMs) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    }
  }
}
