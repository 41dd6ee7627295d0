import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { posterArgs, remuxArgs } from '../core/ffmpeg/args.js';
import { probeMedia, type MediaProbe } from '../core/ffmpeg/probe.js';
import { runFfmpeg } from '../core/ffmpeg/process.js';
import type { FfmpegProgress } from '../core/ffmpeg/progress.js';
import { OnairError } from '../core/errors.js';
import type { ObjectStore, StoredObject } from '../core/object-store/object-store.port.js';

/**
 * One recording -> one replay segment: remux to a faststart MP4 (no re-encoding), read it back with
 * ffprobe, cut a poster, upload both, and verify the upload. Pure of the bus and the database (the
 * worker does those), so the bench times exactly this.
 */
export interface TranscodeInput {
  source: string;
  /** A folder of this job's own: temporary files go there (the caller removes it). */
  workDir: string;
  videoKey: string;
  posterKey: string;
  /** The recording's length as the recorder saw it: where the poster is taken (at most 5 s in). */
  durationHintMs?: number;
}

export interface TranscodeTools {
  store: ObjectStore;
  ffmpegPath?: string;
  ffprobePath?: string;
  ffmpegTimeoutMs?: number;
  signal?: AbortSignal;
  onProgress?: (stage: 'remux', p: FfmpegProgress) => void;
  /** Called after each stage with its wall time: the worker's metrics and the bench's figures. */
  onStage?: (stage: 'remux' | 'probe' | 'poster' | 'upload', ms: number) => void;
}

export interface TranscodeResult {
  probe: MediaProbe;
  video: StoredObject;
  poster: StoredObject | null;
}

/** A recording that can never become a replay (no video and no audio, unreadable): retrying will not help. */
export class UnusableRecordingError extends OnairError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('recording_unusable', message, options);
    this.name = 'UnusableRecordingError';
  }
}

export async function transcodeRecording(input: TranscodeInput, tools: TranscodeTools): Promise<TranscodeResult> {
  const timed = async <T>(stage: 'remux' | 'probe' | 'poster' | 'upload', fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const value = await fn();
    tools.onStage?.(stage, performance.now() - t0);
    return value;
  };
  const run = { timeoutMs: tools.ffmpegTimeoutMs, ...(tools.signal ? { signal: tools.signal } : {}), ...(tools.ffmpegPath ? { binary: tools.ffmpegPath } : {}) };
  const mp4 = join(input.workDir, 'replay.mp4');
  const jpg = join(input.workDir, 'poster.jpg');

  await timed('remux', () => runFfmpeg(remuxArgs(input.source, mp4), { ...run, onProgress: (p) => tools.onProgress?.('remux', p) }));
  // Probe and poster at once (two cores, two ffmpeg-family processes): the poster seeks to a time
  // from the recording's own length when the caller knows it, from 1 s otherwise, and tries the
  // first frame if that time is past a very short recording's end.
  const posterAt = Math.min(5, (input.durationHintMs ?? 2000) / 2000);
  const posterRun = timed('poster', async () => {
    try {
      await runFfmpeg(posterArgs(mp4, jpg, posterAt), run);
      return (await stat(jpg)).size > 0 || (await runFfmpeg(posterArgs(mp4, jpg, 0), run).then(async () => (await stat(jpg)).size > 0));
    } catch {
      return runFfmpeg(posterArgs(mp4, jpg, 0), run).then(async () => (await stat(jpg)).size > 0, () => false);
    }
  });
  const [probe, posterMade] = await Promise.all([
    timed('probe', () => probeMedia(mp4, { ...(tools.signal ? { signal: tools.signal } : {}), ...(tools.ffprobePath ? { binary: tools.ffprobePath } : {}) })),
    posterRun,
  ]);
  if (!probe.video && !probe.audio) throw new UnusableRecordingError('the recording has neither video nor audio');
  const hasPoster = posterMade && probe.video !== null;

  const [video, poster] = await timed('upload', async () => {
    const v = await uploadVerified(tools.store, input.videoKey, mp4);
    const p = hasPoster ? await uploadVerified(tools.store, input.posterKey, jpg) : null;
    return [v, p] as const;
  });
  return { probe, video, poster };
}

/**
 * put() already refuses an upload whose size or checksum the server does not confirm; this also
 * compares with the file on disk (its size and its MD5, read again) and stats the stored object, so
 * the source is deleted only after the object is known to be the whole file.
 */
export async function uploadVerified(store: ObjectStore, key: string, file: string): Promise<StoredObject> {
  // The file's own MD5 is read alongside the upload (the page cache serves both reads).
  const [{ size }, md5, stored] = await Promise.all([stat(file), fileMd5(file), store.put(key, { file })]);
  const seen = await store.stat(key);
  if (stored.size !== size || stored.md5 !== md5 || !seen || seen.size !== size) {
    throw new OnairError('upload_mismatch', `upload of ${key} not verified: file ${size} B md5 ${md5}, stored ${stored.size} B md5 ${stored.md5}, stat ${seen?.size ?? 'missing'}`);
  }
  return stored;
}

function fileMd5(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('md5');
    createReadStream(file).on('data', (c) => h.update(c)).on('error', reject).on('end', () => resolve(h.digest('hex')));
  });
}
