import { createWriteStream } from 'node:fs';
import { open, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { concatArgs, concatListFile, posterArgs, remuxArgs, type RemuxTracks } from '../core/ffmpeg/args.js';
import { probeMedia, type MediaProbe } from '../core/ffmpeg/probe.js';
import { FfmpegError, runFfmpeg } from '../core/ffmpeg/process.js';
import type { FfmpegProgress } from '../core/ffmpeg/progress.js';
import { OnairError } from '../core/errors.js';
import { distinctVideoConfigs, largestKeyframeSize, reencodeArgs, videoConfigOf } from './resolution-change.js';
import type { ObjectStore, StoredObject } from '../core/object-store/object-store.port.js';

/**
 * One recording -> one replay segment: remux to a faststart MP4 (no re-encoding; re-encoded at one
 * size only when the show changed resolution, resolution-change.ts), read it back with
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
  /**
   * Upload while ffmpeg writes, the index reserved from durationHintMs (moovReservation). Off: the
   * classic remux with +faststart, then the upload (config transcoder.uploadDuringRemux says why).
   */
  uploadDuringRemux?: boolean;
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
  /**
   * How the MP4 was made: `reserved` index written into room at the front and the video uploaded
   * while ffmpeg wrote it; `faststart` the classic remux then upload (short or unknown length);
   * `faststart-after-overrun` the classic way after the index outgrew its reservation;
   * `reencoded` the video re-encoded at one size, the recording having changed resolution mid-show.
   */
  remux: 'reserved' | 'faststart' | 'faststart-after-overrun' | 'reencoded';
  /**
   * The tracks the replay kept: `all`, or `video` / `audio` when ffmpeg could not set up the other
   * one (an encoder's garbage AudioSpecificConfig or AVC configuration): that track is left out
   * rather than the whole replay lost.
   */
  tracks: RemuxTracks;
}

/** A recording that can never become a replay (no video and no audio, unreadable): retrying will not help. */
export class UnusableRecordingError extends OnairError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('recording_unusable', message, options);
    this.name = 'UnusableRecordingError';
  }
}

/**
 * A track ffmpeg cannot set up (garbage decoder configuration from the publisher) fails the remux
 * ("Error initializing output stream") or the probe of its MP4, for every attempt alike: before,
 * such a recording went to the dead letters and the show had no replay although its other track
 * was fine. Then the replay is made of the other track alone (video first). Only for ffmpeg's own
 * failures that blame a codec or a stream: an abort, a kill, a timeout, a crash or a missing binary is not the recording's fault.
 */
/** ffmpeg's complaint names a codec or an output stream ("Error initializing output stream 0:1"). */
const BLAMES_A_STREAM = /\[[\w-]+ @ 0x[0-9a-f]+\]|Error initializing output stream/;
/** ffprobe refusing an MP4 ffmpeg just wrote without complaint (it exits 1 and says nothing for a garbage AAC config). */
const probeFailures = new WeakSet<object>();

export async function transcodeRecording(input: TranscodeInput, tools: TranscodeTools): Promise<TranscodeResult> {
  try {
    return await transcodeTracks(input, tools, 'all');
  } catch (err) {
    const trackTrouble = err instanceof FfmpegError && err.code === 'ffmpeg_failed' && Boolean(err.exitCode)
      && (BLAMES_A_STREAM.test(err.stderr) || probeFailures.has(err));
    if (!trackTrouble || tools.signal?.aborted) throw err;
    for (const tracks of ['video', 'audio'] as const) {
      try {
        return await transcodeTracks(input, tools, tracks);
      } catch {
        // the next one, or the first error
      }
    }
    throw err;
  }
}

async function transcodeTracks(input: TranscodeInput, tools: TranscodeTools, tracks: RemuxTracks): Promise<TranscodeResult> {
  const timed = async <T>(stage: 'remux' | 'probe' | 'poster' | 'upload', fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const value = await fn();
    tools.onStage?.(stage, performance.now() - t0);
    return value;
  };
  const run = { timeoutMs: tools.ffmpegTimeoutMs, ...(tools.signal ? { signal: tools.signal } : {}), ...(tools.ffmpegPath ? { binary: tools.ffmpegPath } : {}) };
  const mp4 = join(input.workDir, 'replay.mp4');
  const jpg = join(input.workDir, 'poster.jpg');

  // The poster is cut from the recording itself while the remux runs (two cores, two ffmpeg
  // processes; it reads a few seconds of the FLV, the remux reads all of it). It seeks to a time
  // from the recording's own length when the caller knows it, from 1 s otherwise, and tries the
  // first frame if that time is past a very short recording's end. A poster that cannot be made
  // is no reason to fail the job.
  const posterAt = Math.min(5, (input.durationHintMs ?? 2000) / 2000);
  const posterRun = timed('poster', async () => {
    // ffmpeg succeeds without writing a frame when the time is past the end: no file is no poster.
    const made = async (at: number) => runFfmpeg(posterArgs(input.source, jpg, at), run).then(async () => (await stat(jpg)).size > 0).catch(() => false);
    return (await made(posterAt)) || (await made(0));
  });
  posterRun.catch(() => undefined); // awaited below; only the remux's failure must not leave it unobserved

  // The video goes up while ffmpeg writes it when the recording is long enough for that to matter:
  // the index is written into room reserved for it at the front (remuxArgs), so everything past the
  // reservation is final as soon as it is written, and the store sends those parts meanwhile
  // (ObjectSource's growingFile). A reservation too small (a recording much longer than its hint)
  // fails only at the end: then the classic remux with +faststart, and the classic upload.
  let videoUpload: Promise<StoredObject> | undefined;
  let mode: TranscodeResult['remux'] = 'faststart';
  // A resolution change mid-show (a second decoder configuration): re-encoded at one size, since
  // an MP4 track keeps one configuration and a copy would not decode past the change.
  const resized = tracks !== 'audio' && (await distinctVideoConfigs(input.source)) > 1
    ? await largestKeyframeSize(input.source, { ...(tools.ffprobePath ? { binary: tools.ffprobePath } : {}), ...(tools.signal ? { signal: tools.signal } : {}), ...(tools.ffmpegTimeoutMs ? { timeoutMs: tools.ffmpegTimeoutMs } : {}) })
    : undefined;
  if (resized) {
    // Encoding is slower than a copy: the show's own length on top of the usual limit.
    const timeoutMs = run.timeoutMs !== undefined ? run.timeoutMs + (input.durationHintMs ?? 0) : undefined;
    await timed('remux', () => runFfmpeg(reencodeArgs(input.source, mp4, resized, tracks === 'video' ? 'video' : 'all'), { ...run, timeoutMs, onProgress: (p) => tools.onProgress?.('remux', p) }));
    videoUpload = timed('upload', () => uploadVerified(tools.store, input.videoKey, mp4));
    videoUpload.catch(() => undefined);
    mode = 'reencoded';
  }
  const reserve = !resized && input.uploadDuringRemux ? moovReservation(input.durationHintMs, (await stat(input.source)).size) : 0;
  if (reserve > 0) {
    const remux = timed('remux', async () => {
      await runFfmpeg(remuxArgs(input.source, mp4, { reserveMoovBytes: reserve, tracks }), { ...run, onProgress: (p) => tools.onProgress?.('remux', p) });
      // ffmpeg 5.1 exits 0 when the index outgrew its reservation, having written it over the
      // start of the media data: the layout is checked before the upload may complete.
      await assertReservedLayout(mp4, reserve);
    });
    const upload = timed('upload', () => uploadVerified(tools.store, input.videoKey, mp4, { written: remux, settledFrom: reserve + HEAD_SLACK }));
    upload.catch(() => undefined);
    try {
      await remux;
      videoUpload = upload;
      mode = 'reserved';
    } catch (err) {
      await upload.catch(() => undefined); // it fails with the same error, storing nothing, and closes the file
      if (!isReservationTooSmall(err)) throw err;
      mode = 'faststart-after-overrun';
    }
  }
  if (!videoUpload) {
    await timed('remux', () => runFfmpeg(remuxArgs(input.source, mp4, { tracks }), { ...run, onProgress: (p) => tools.onProgress?.('remux', p) }));
    videoUpload = timed('upload', () => uploadVerified(tools.store, input.videoKey, mp4));
    videoUpload.catch(() => undefined);
  }
  const posterMade = await posterRun;

  // ffprobe reads the MP4 (its moov is at the front) while the upload goes on: the probe only
  // refuses a recording with neither video nor audio, and then the uploaded object is removed.
  const probeRun = timed('probe', () => probeMedia(mp4, { ...(tools.signal ? { signal: tools.signal } : {}), ...(tools.ffprobePath ? { binary: tools.ffprobePath } : {}) }));
  probeRun.catch(() => undefined);
  const hasPoster = posterMade;
  // Video and poster at once: the poster is small, and waiting for it after the video was a round trip for nothing.
  const uploads = Promise.all([
    videoUpload,
    hasPoster ? uploadVerified(tools.store, input.posterKey, jpg) : Promise.resolve(null),
  ]);
  uploads.catch(() => undefined);
  let probe: MediaProbe;
  try {
    probe = await probeRun.catch((err: unknown) => {
      if (err instanceof FfmpegError) probeFailures.add(err);
      throw err;
    });
    if (!probe.video && !probe.audio) throw new UnusableRecordingError('the recording has neither video nor audio');
  } catch (err) {
    await uploads.then(async () => {
      await tools.store.delete(input.videoKey);
      if (hasPoster) await tools.store.delete(input.posterKey);
    }, () => undefined);
    throw err;
  }
  let [video, poster] = await uploads;
  if (poster && !probe.video) {
    await tools.store.delete(input.posterKey);
    poster = null;
  }
  return { probe, video, poster, remux: mode, tracks };
}

export interface JoinInput {
  /** The show's segment objects, in order. */
  segmentKeys: string[];
  workDir: string;
  key: string;
}

/**
 * A show recorded in segments -> one MP4: the segment objects are fetched into the job's folder,
 * joined by ffmpeg's concat demuxer without re-encoding (`-c copy`, `+faststart`; the video
 * re-encoded at one size when the segments' configurations differ), read back with
 * ffprobe and uploaded (verified) under one deterministic key. Repeatable: a join cut short leaves
 * only its work folder, and a join run twice replaces its own object.
 */
export async function joinSegments(input: JoinInput, tools: Omit<TranscodeTools, 'onStage'>): Promise<{ probe: MediaProbe; video: StoredObject }> {
  const run = { timeoutMs: tools.ffmpegTimeoutMs, ...(tools.signal ? { signal: tools.signal } : {}), ...(tools.ffmpegPath ? { binary: tools.ffmpegPath } : {}) };
  const files: string[] = [];
  for (const [i, key] of input.segmentKeys.entries()) {
    const file = join(input.workDir, `segment-${String(i).padStart(4, '0')}.mp4`);
    const body = await tools.store.get(key);
    await pipeline(body.stream, createWriteStream(file));
    files.push(file);
  }
  const list = join(input.workDir, 'segments.ffconcat');
  await writeFile(list, concatListFile(files));
  const out = join(input.workDir, 'show.mp4');
  // Segments whose video configurations differ (the show changed resolution) cannot be copied into
  // one track: then the join re-encodes the video at the largest size (resolution-change.ts).
  const probeTool = { ...(tools.ffprobePath ? { binary: tools.ffprobePath } : {}), ...(tools.signal ? { signal: tools.signal } : {}), ...(tools.ffmpegTimeoutMs ? { timeoutMs: tools.ffmpegTimeoutMs } : {}) };
  const configs: { config: string; width: number; height: number }[] = [];
  for (const f of files) {
    const c = await videoConfigOf(f, probeTool);
    if (c) configs.push(c);
  }
  const largest = new Set(configs.map((c) => c.config)).size > 1 ? configs.reduce((a, b) => (b.width * b.height > a.width * a.height ? b : a)) : undefined;
  await runFfmpeg(largest ? reencodeArgs(list, out, largest, 'all', true) : concatArgs(list, out), { ...run, onProgress: (p) => tools.onProgress?.('remux', p) });
  const probe = await probeMedia(out, { ...(tools.signal ? { signal: tools.signal } : {}), ...(tools.ffprobePath ? { binary: tools.ffprobePath } : {}) });
  if (!probe.video && !probe.audio) throw new UnusableRecordingError('the joined show has neither video nor audio');
  const video = await uploadVerified(tools.store, input.key, out);
  return { probe, video };
}

/** Bytes past the moov reservation that ffmpeg still fills in at its end (`ftyp` before it, the `mdat` header after it), with room to spare. */
const HEAD_SLACK = 64 * 1024;

/** Below this size the remux takes well under a second: nothing to gain from uploading during it. */
export const STREAM_UPLOAD_MIN_BYTES = 32 * 1024 * 1024;

/**
 * Room for the MP4 index of a recording of `durationMs`, or 0 to remux the classic way (no length
 * known, or a recording too small to gain anything). The index grows with the number of samples:
 * 60 s of 720p30 H.264 + 44.1 kHz AAC gives a 61.9 KB moov (about 1 KiB per second; measured with
 * ffmpeg 5.1); 3 KiB per second leaves room for 60 fps, B-frames (ctts) and 48 kHz audio. What is
 * not used stays in the file as a `free` box (about 7 MB of an hour's 1.2 GB). A recording longer
 * than its hint overruns it and is remuxed again the classic way (transcodeRecording).
 */
export function moovReservation(durationMs: number | undefined, sourceBytes: number): number {
  if (!durationMs || !Number.isFinite(durationMs) || durationMs <= 0 || sourceBytes < STREAM_UPLOAD_MIN_BYTES) return 0;
  return Math.ceil(64 * 1024 + (durationMs / 1000) * 3 * 1024);
}

class ReservationTooSmallError extends OnairError {
  constructor(message: string) {
    super('moov_reservation_too_small', message);
    this.name = 'ReservationTooSmallError';
  }
}

/** The layout check's verdict (ffmpeg 5.1 exits 0), or an ffmpeg that does exit non-zero with its "too small" message. */
function isReservationTooSmall(err: unknown): boolean {
  return err instanceof ReservationTooSmallError || (err instanceof FfmpegError && /reserved_moov_size is too small/.test(err.stderr));
}

/**
 * The head of an MP4 remuxed with a reserved index: `ftyp`, then `moov` and the `free` box that
 * fills the rest of the reservation, ending exactly where the reservation ends, then ffmpeg's
 * `free` placeholder and `mdat`. Anything else (the index overran its room) is
 * ReservationTooSmallError.
 */
export async function assertReservedLayout(file: string, reserve: number): Promise<void> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(Math.min(reserve + HEAD_SLACK, (await handle.stat()).size));
    await handle.read(head, 0, head.length, 0);
    const box = (at: number) => (at + 8 <= head.length ? { size: head.readUInt32BE(at), type: head.toString('latin1', at + 4, at + 8) } : null);
    const ftyp = box(0);
    const moov = ftyp?.type === 'ftyp' ? box(ftyp.size) : null;
    const fill = moov?.type === 'moov' ? box(ftyp!.size + moov.size) : null;
    const end = ftyp && moov && fill ? ftyp.size + moov.size + fill.size : -1;
    const after = fill?.type === 'free' ? box(end) : null;
    if (end !== ftyp!.size + reserve || !after || (after.type !== 'free' && after.type !== 'mdat')) {
      throw new ReservationTooSmallError(`the MP4 index did not fit the ${reserve} bytes reserved for it`);
    }
  } finally {
    await handle.close();
  }
}

/**
 * put() computes the MD5 of the bytes it reads from the file while it sends them, and refuses an
 * upload whose size or checksum the server does not confirm (object-store.port.ts); this also
 * compares the stored size with the file on disk and stats the stored object, so the source is
 * deleted only after the object is known to be the whole file. (The file used to be read a second
 * time for its own MD5: a second pass over every byte that checked what put() had already checked.)
 */
export async function uploadVerified(store: ObjectStore, key: string, file: string, growing?: { written: Promise<unknown>; settledFrom: number }): Promise<StoredObject> {
  const stored = await store.put(key, growing ? { growingFile: file, ...growing } : { file });
  const [{ size }, seen] = await Promise.all([stat(file), store.stat(key)]);
  if (stored.size !== size || !/^[0-9a-f]{32}$/.test(stored.md5) || !seen || seen.size !== size) {
    throw new OnairError('upload_mismatch', `upload of ${key} not verified: file ${size} B, stored ${stored.size} B md5 ${stored.md5}, stat ${seen?.size ?? 'missing'}`);
  }
  return stored;
}
