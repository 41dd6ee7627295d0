import { QueryTypes, type Transaction } from 'sequelize';
import type { Database } from '../database/database.js';
import { showKey, type NewSegment, type Replay, type ReplaySegment } from './replay.js';

type Row = Record<string, unknown>;
const str = (v: unknown): string => String(v);
const num = (v: unknown): number => Number(v);
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

function toReplay(r: Row): Replay {
  return {
    id: str(r.id), roomId: str(r.room_id), sessionId: strOrNull(r.session_id), publisherId: str(r.publisher_id),
    segmentCount: num(r.segments), durationMs: num(r.duration_ms), size: num(r.size), posterKey: strOrNull(r.poster_key),
    startedAt: num(r.started_at), endedAt: num(r.ended_at), createdAt: num(r.created_at),
    lastSegment: numOrNull(r.last_segment),
    joined: r.object_key ? { objectKey: str(r.object_key), size: num(r.object_size), md5: str(r.object_md5), durationMs: num(r.object_duration_ms) } : null,
    segmentsRemovedAt: numOrNull(r.segments_removed_at),
  };
}

function toSegment(r: Row): ReplaySegment {
  return {
    id: str(r.id), replayId: str(r.replay_id), sourceEventId: str(r.source_event_id), segment: num(r.segment),
    objectKey: str(r.object_key), posterKey: strOrNull(r.poster_key), durationMs: num(r.duration_ms), size: num(r.size),
    md5: str(r.md5), videoCodec: strOrNull(r.video_codec), audioCodec: strOrNull(r.audio_codec),
    width: numOrNull(r.width), height: numOrNull(r.height), startedAt: num(r.started_at), endedAt: num(r.ended_at),
  };
}

const isId = (id: string) => /^\d{1,19}$/.test(id);

/** replays + replay_segments (migration 0400), on SQLite and MariaDB. */
export class ReplayStore {
  constructor(private readonly db: Database) {}

  private q<T = Row>(sql: string, replacements: unknown[], transaction?: Transaction): Promise<T[]> {
    return this.db.sequelize.query(sql, { replacements, type: QueryTypes.SELECT, ...(transaction ? { transaction } : {}) }) as Promise<T[]>;
  }

  private run(sql: string, replacements: unknown[], transaction?: Transaction): Promise<unknown> {
    return this.db.sequelize.query(sql, { replacements, ...(transaction ? { transaction } : {}) });
  }

  private get ignore(): string {
    return this.db.dialect === 'sqlite' ? 'INSERT OR IGNORE' : 'INSERT IGNORE';
  }

  async findSegmentBySource(sourceEventId: string): Promise<ReplaySegment | null> {
    const [row] = await this.q('SELECT * FROM replay_segments WHERE source_event_id = ?', [sourceEventId]);
    return row ? toSegment(row) : null;
  }

  /**
   * Records one transcoded segment and folds it into its show's replay, in one transaction.
   * Idempotent by sourceEventId: a second call for the same recording changes nothing and answers
   * `created: false` with the segment already stored. Sets the session's record_url.
   */
  async addSegment(s: NewSegment, recordUrl: (replayId: string) => string): Promise<{ replay: Replay; segment: ReplaySegment; created: boolean }> {
    return this.db.sequelize.transaction(async (tx) => {
      const now = Date.now();
      const key = showKey(s.roomId, s.publisherId);
      await this.run(
        `${this.ignore} INTO replays (show_key, room_id, session_id, publisher_id, segments, duration_ms, size, poster_key, started_at, ended_at, created_at, updated_at)
         VALUES (?, ?, ?, ?, 0, 0, 0, NULL, ?, ?, ?, ?)`,
        [key, s.roomId, s.sessionId, s.publisherId, s.startedAt, s.endedAt, now, now], tx,
      );
      const [replayRow] = await this.q('SELECT id FROM replays WHERE show_key = ?', [key], tx);
      const replayId = str(replayRow!.id);
      const [before] = await this.q('SELECT id FROM replay_segments WHERE source_event_id = ?', [s.sourceEventId], tx);
      await this.run(
        `${this.ignore} INTO replay_segments (replay_id, source_event_id, segment, object_key, poster_key, duration_ms, size, md5, video_codec, audio_codec, width, height, started_at, ended_at, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [replayId, s.sourceEventId, s.segment, s.objectKey, s.posterKey, s.durationMs, s.size, s.md5, s.videoCodec, s.audioCodec, s.width, s.height, s.startedAt, s.endedAt, now], tx,
      );
      const [segRow] = await this.q('SELECT * FROM replay_segments WHERE source_event_id = ?', [s.sourceEventId], tx);
      const segment = toSegment(segRow!);
      // Two transcoders racing on one recording may both see "new" here; replay.ready's eventId is the same for both.
      const created = !before;
      // Totals from the segments themselves, so a repeated or reordered segment never counts twice.
      const [t] = await this.q<{ n: unknown; d: unknown; z: unknown; a: unknown; b: unknown }>(
        'SELECT COUNT(*) AS n, SUM(duration_ms) AS d, SUM(size) AS z, MIN(started_at) AS a, MAX(ended_at) AS b FROM replay_segments WHERE replay_id = ?', [replayId], tx,
      );
      const [first] = await this.q('SELECT poster_key FROM replay_segments WHERE replay_id = ? AND poster_key IS NOT NULL ORDER BY segment LIMIT 1', [replayId], tx);
      await this.run(
        `UPDATE replays SET segments = ?, duration_ms = ?, size = ?, started_at = ?, ended_at = ?, poster_key = ?, updated_at = ?,
           session_id = COALESCE(session_id, ?) WHERE id = ?`,
        [num(t!.n), num(t!.d ?? 0), num(t!.z ?? 0), num(t!.a ?? s.startedAt), num(t!.b ?? s.endedAt), first ? strOrNull(first.poster_key) : null, now, s.sessionId, replayId], tx,
      );
      if (s.final) await this.run('UPDATE replays SET last_segment = ? WHERE id = ?', [s.segment, replayId], tx);
      if (s.sessionId) await this.run('UPDATE live_streams SET record_url = ? WHERE id = ?', [recordUrl(replayId), s.sessionId], tx);
      const [r] = await this.q('SELECT * FROM replays WHERE id = ?', [replayId], tx);
      return { replay: toReplay(r!), segment, created };
    });
  }

  /**
   * Records the show's joined MP4. Only while the replay still has `segments` segments and no
   * joined object yet: a late or repeated join changes nothing. Answers whether it was recorded.
   */
  async setJoined(id: string, segments: number, o: { objectKey: string; size: number; md5: string; durationMs: number }): Promise<boolean> {
    await this.run(
      'UPDATE replays SET object_key = ?, object_size = ?, object_md5 = ?, object_duration_ms = ?, updated_at = ? WHERE id = ? AND segments = ? AND object_key IS NULL',
      [o.objectKey, o.size, o.md5, o.durationMs, Date.now(), id, segments],
    );
    const [row] = await this.q('SELECT object_key, object_md5 FROM replays WHERE id = ?', [id]);
    return !!row && row.object_key === o.objectKey && row.object_md5 === o.md5;
  }

  /**
   * Marks the segments' objects as removed (before removing them: from then on the API hands out
   * no URL for them). Only once the replay has its joined object. Idempotent.
   */
  async markSegmentsRemoved(id: string): Promise<void> {
    await this.run('UPDATE replays SET segments_removed_at = COALESCE(segments_removed_at, ?) WHERE id = ? AND object_key IS NOT NULL', [Date.now(), id]);
  }

  async get(id: string): Promise<(Replay & { segments: ReplaySegment[] }) | null> {
    if (!isId(id)) return null;
    const [r] = await this.q('SELECT * FROM replays WHERE id = ?', [id]);
    if (!r) return null;
    const segs = await this.q('SELECT * FROM replay_segments WHERE replay_id = ? ORDER BY segment', [id]);
    return { ...toReplay(r), segments: segs.map(toSegment) };
  }

  /** A room's replays, newest first, `limit` at a time; pass the last id as `before` for the next page. */
  async listByRoom(roomId: string, options: { limit: number; before?: string }): Promise<Replay[]> {
    if (!isId(roomId)) return [];
    const rows = options.before && isId(options.before)
      ? await this.q('SELECT * FROM replays WHERE room_id = ? AND id < ? ORDER BY id DESC LIMIT ?', [roomId, options.before, options.limit])
      : await this.q('SELECT * FROM replays WHERE room_id = ? ORDER BY id DESC LIMIT ?', [roomId, options.limit]);
    return rows.map(toReplay);
  }

  /** Replays whose show ended before `before` (retention), oldest first. */
  async listEndedBefore(before: number, limit: number): Promise<Replay[]> {
    const rows = await this.q('SELECT * FROM replays WHERE ended_at < ? ORDER BY ended_at LIMIT ?', [before, limit]);
    return rows.map(toReplay);
  }

  /** Removes the rows (objects are the caller's: remove them first, so a retry finds what is left). */
  async delete(id: string): Promise<void> {
    await this.db.sequelize.transaction(async (tx) => {
      await this.run('DELETE FROM replay_segments WHERE replay_id = ?', [id], tx);
      await this.run('UPDATE live_streams SET record_url = NULL WHERE id IN (SELECT session_id FROM replays WHERE id = ?)', [id], tx);
      await this.run('DELETE FROM replays WHERE id = ?', [id], tx);
    });
  }
}
