import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { clipArgs } from '../../core/ffmpeg/args.js';
import { probeMedia } from '../../core/ffmpeg/probe.js';
import { runFfmpeg } from '../../core/ffmpeg/process.js';
import { ForbiddenError, NotFoundError, UnavailableError, ValidationError } from '../../core/errors.js';
import type { Logger } from '../../core/logging/logger.js';
import type { ObjectStore } from '../../core/object-store/object-store.port.js';
import type { Replay, ReplaySegment } from '../../core/replays/replay.js';
import type { ReplayStore } from '../../core/replays/replay.store.js';
import type { AuthUser } from '../auth/user.js';
import type { ReplayUrlSigner } from './replay-url.js';

export interface ReplayServiceDeps {
  store: ReplayStore;
  objects: ObjectStore;
  rooms: { findById(id: string): Promise<{ id: string; ownerId: string } | null> };
  signer: ReplayUrlSigner;
  /** config.replays.urlTtl */
  urlTtlMs: number;
  ffmpegPath?: string;
  ffprobePath?: string;
  log: Logger;
  now?: () => number;
}

/** The longest clip one request may cut. */
export const MAX_CLIP_SECONDS = 600;

/**
 * Replays for users: listing, one replay with playback URLs (S3 presigned, or onair-signed on the
 * local folder), deletion by the room's anchor or an operator, clips, and retention.
 */
/**
 * Clips cut at once by one control process. Each is a copy of its source (the whole show from the
 * local folder) in the temporary folder and an ffmpeg run; unbounded, a few users asking for clips
 * at once filled the disk and the cores of the process that serves the API.
 */
export const MAX_CONCURRENT_CLIP_CUTS = 2;

export class ReplayService {
  private cutting = 0;
  constructor(private readonly d: ReplayServiceDeps) {}

  private now(): number {
    return this.d.now?.() ?? Date.now();
  }

  /** A URL a browser fetches with Range: presigned on S3, signed by onair on the local folder. */
  async playbackUrl(key: string): Promise<{ url: string; expiresAt: number }> {
    const presigned = await this.d.objects.presignGet(key, { expiresInMs: this.d.urlTtlMs });
    if (presigned) return { url: presigned.url, expiresAt: presigned.expiresAt.getTime() };
    const expiresAt = this.now() + this.d.urlTtlMs;
    return { url: this.d.signer.url(key, expiresAt), expiresAt };
  }

  async listByRoom(roomId: string, page: { limit: number; before?: string }): Promise<{ replays: object[]; next: string | null }> {
    if (!(await this.d.rooms.findById(roomId))) throw new NotFoundError('no such room', { code: 'room_not_found' });
    const list = await this.d.store.listByRoom(roomId, page);
    const replays = await Promise.all(list.map(async (r) => ({ ...summary(r), poster_url: r.posterKey ? (await this.playbackUrl(r.posterKey)).url : null })));
    return { replays, next: list.length === page.limit ? list[list.length - 1]!.id : null };
  }

  async view(id: string): Promise<object> {
    const replay = await this.d.store.get(id);
    if (!replay) throw new NotFoundError('no such replay', { code: 'replay_not_found' });
    let offset = 0;
    // Segments whose objects were removed after the join (ONAIR_REPLAY_KEEP_SEGMENTS) keep their times, codecs and posters but have no URL.
    const removed = replay.segmentsRemovedAt !== null;
    const segments = await Promise.all(replay.segments.map(async (s) => {
      const play = removed ? null : await this.playbackUrl(s.objectKey);
      const at = offset;
      offset += s.durationMs;
      return {
        segment: s.segment, offset_ms: at, duration_ms: s.durationMs, size: s.size, video_codec: s.videoCodec, audio_codec: s.audioCodec,
        width: s.width, height: s.height, url: play?.url ?? null, url_expires_at: play ? new Date(play.expiresAt).toISOString() : null,
        poster_url: s.posterKey ? (await this.playbackUrl(s.posterKey)).url : null,
      };
    }));
    // One URL for the whole show: the joined MP4 of a show recorded in segments (the transcoder
    // makes it once every segment is in), or the only segment. Until a segmented show is joined,
    // `playback` is 'segments': play `segments` in order (each `offset_ms` into the show);
    // playback_url is then the first segment's.
    const joined = replay.joined ? await this.playbackUrl(replay.joined.objectKey) : null;
    const only = segments.length === 1 ? segments[0]! : null;
    const whole = joined ?? (only?.url && only.url_expires_at ? { url: only.url, expiresAt: Date.parse(only.url_expires_at) } : null);
    return {
      ...summary(replay),
      poster_url: replay.posterKey ? (await this.playbackUrl(replay.posterKey)).url : null,
      playback: whole ? 'file' : segments.length ? 'segments' : 'none',
      playback_url: whole?.url ?? segments[0]?.url ?? null,
      playback_url_expires_at: whole ? new Date(whole.expiresAt).toISOString() : segments[0]?.url_expires_at ?? null,
      // All the show's segments are in (its last one was announced and none is missing).
      complete: replay.lastSegment !== null && segments.length === replay.lastSegment + 1,
      joined: replay.joined ? { duration_ms: replay.joined.durationMs, size: replay.joined.size } : null,
      segments,
    };
  }

  /** The room's anchor or an operator: removes the objects, then the rows (a retry finishes a half-done delete). */
  async delete(user: AuthUser, id: string): Promise<void> {
    const replay = await this.d.store.get(id);
    if (!replay) throw new NotFoundError('no such replay', { code: 'replay_not_found' });
    if (user.role !== 'operator') {
      const room = await this.d.rooms.findById(replay.roomId);
      if (!room || room.ownerId !== user.id) throw new ForbiddenError('only the room\'s anchor or an operator can delete its replays', { code: 'not_room_owner' });
    }
    await this.remove(replay);
    this.d.log.info({ replay: id, by: user.id }, 'replay deleted');
  }

  private async remove(replay: Replay & { segments: ReplaySegment[] }): Promise<void> {
    if (replay.joined) await this.d.objects.delete(replay.joined.objectKey);
    for (const s of replay.segments) {
      await this.d.objects.delete(s.objectKey);
      if (s.posterKey) await this.d.objects.delete(s.posterKey);
    }
    // Clips made from it go too (clips/{replayId}/...).
    for (let page = 0; page < 100; page++) {
      const { items, next } = await this.d.objects.list(`clips/${replay.id}/`);
      for (const item of items) await this.d.objects.delete(item.key);
      if (!next) break;
    }
    await this.d.store.delete(replay.id);
  }

  /** Deletes replays whose show ended more than `retentionMs` ago; returns how many. */
  async prune(retentionMs: number, batch = 100): Promise<number> {
    if (retentionMs <= 0) return 0;
    const old = await this.d.store.listEndedBefore(this.now() - retentionMs, batch);
    for (const r of old) {
      const full = await this.d.store.get(r.id);
      if (full) await this.remove(full);
    }
    if (old.length) this.d.log.info({ deleted: old.length, retentionMs }, 'replays past retention deleted');
    return old.length;
  }

  /**
   * A clip of [start, start+duration) seconds of the replay (the show's time: segments follow each
   * other), cut without re-encoding from the joined show when there is one, from the one segment it
   * begins in otherwise. `-c copy` can only start on a keyframe: the clip begins at the keyframe at
   * or before `start` (up to one GOP early) and `duration_ms` says what was cut. Cut from a segment,
   * a clip ends where its segment ends; from the joined show it may span segments. Same request,
   * same clip key: asking twice reuses the object.
   */
  async clip(id: string, start: number, duration: number): Promise<object> {
    const replay = await this.d.store.get(id);
    if (!replay) throw new NotFoundError('no such replay', { code: 'replay_not_found' });
    let offset = 0;
    const seg = replay.segments.find((s) => {
      const inside = start * 1000 >= offset && start * 1000 < offset + s.durationMs;
      if (!inside) offset += s.durationMs;
      return inside;
    });
    const total = replay.joined?.durationMs ?? replay.durationMs;
    if (!seg && !(replay.joined && start * 1000 < total)) throw new ValidationError(`start ${start}s is past the end of the replay (${total / 1000}s)`, { code: 'clip_out_of_range' });
    const source = replay.joined ? replay.joined.objectKey : seg!.objectKey;
    const within = replay.joined ? start : start - offset / 1000;
    const key = `clips/${replay.id}/${createHash('sha256').update(`${source}\n${within}\n${duration}`).digest('hex').slice(0, 24)}.mp4`;
    const existing = await this.d.objects.stat(key);
    if (!existing) {
      if (this.cutting >= MAX_CONCURRENT_CLIP_CUTS) {
        throw new UnavailableError('other clips are being cut; retry in a few seconds', { code: 'clip_busy' });
      }
      this.cutting++;
      const dir = await mkdtemp(join(tmpdir(), 'onair-clip-')).catch((err: unknown) => {
        this.cutting--;
        throw err;
      });
      try {
        const input = await this.localInput(source, dir);
        const out = join(dir, `clip-${randomBytes(4).toString('hex')}.mp4`);
        await runFfmpeg(clipArgs(input, out, within, duration), { timeoutMs: 120_000, ...(this.d.ffmpegPath ? { binary: this.d.ffmpegPath } : {}) });
        if ((await stat(out)).size === 0) throw new ValidationError('the clip is empty', { code: 'clip_empty' });
        await this.d.objects.put(key, { file: out });
      } finally {
        this.cutting--;
        await rm(dir, { recursive: true, force: true });
      }
    }
    const play = await this.playbackUrl(key);
    const info = await this.probeClip(key, play.url);
    return { replay_id: replay.id, segment: replay.joined ? null : seg!.segment, from: replay.joined ? 'joined' : 'segment', requested_start: start, duration_ms: info, keyframe_aligned: true, url: play.url, url_expires_at: new Date(play.expiresAt).toISOString() };
  }

  /** ffmpeg reads an S3 object over its presigned URL (with Range), a local one from a copy. */
  private async localInput(key: string, dir: string): Promise<string> {
    const presigned = await this.d.objects.presignGet(key, { expiresInMs: 10 * 60_000 });
    if (presigned) return presigned.url;
    const file = join(dir, 'source.mp4');
    const body = await this.d.objects.get(key);
    await pipeline(body.stream, createWriteStream(file));
    return file;
  }

  private async probeClip(key: string, url: string): Promise<number | null> {
    if (!url.startsWith('http')) {
      const dir = await mkdtemp(join(tmpdir(), 'onair-clip-'));
      try {
        const file = await this.localInput(key, dir);
        return (await probeMedia(file, this.d.ffprobePath ? { binary: this.d.ffprobePath } : {})).durationMs;
      } catch {
        return null;
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
    return probeMedia(url, this.d.ffprobePath ? { binary: this.d.ffprobePath } : {}).then((p) => p.durationMs, () => null);
  }
}

function summary(r: Replay): Record<string, unknown> {
  return {
    id: r.id, room_id: r.roomId, session_id: r.sessionId, segments_count: r.segmentCount, duration_ms: r.joined?.durationMs ?? r.durationMs, size: r.size,
    started_at: new Date(r.startedAt).toISOString(), ended_at: new Date(r.endedAt).toISOString(),
  };
}
