import { QueryTypes } from 'sequelize';
import type { Database } from '../../core/database/database.js';
import type { Role } from '../auth/user.js';

/** The room filters of the operator's list (ser-blive 直播间管理). */
export const ROOM_FILTERS = ['all', 'live', 'pinned', 'banned'] as const;
export type RoomFilter = (typeof ROOM_FILTERS)[number];

export interface OperatorRoomRow {
  id: string;
  title: string;
  cover_url: string | null;
  owner: { id: string; username: string | null };
  is_live: boolean;
  viewers: number;
  stream_key_revoked: boolean;
  /** The owner has an active publishing ban. */
  owner_banned: boolean;
  pinned_at: string | null;
  created_at: string | null;
}

export interface SessionFigures {
  session_id: string;
  status: string;
  start_at: string | null;
  end_at: string | null;
  duration_s: number | null;
  close_method: number | null;
  close_reason: string | null;
  peak_viewers: number;
  /** Distinct signed-in viewers plus anonymous viewings (an anonymous viewer has no identity across reconnects). */
  unique_viewers: number;
  /** Sum of finished viewings, seconds. */
  watch_s: number;
  /** From settlement (live_statistics), once the show ended and was settled. */
  total_viewers: number | null;
  room_id: string;
  /** The anchor's share of the show's paid gifts, and how many gifts. */
  income: number;
  gifts: number;
  /** The show's replay (control/replays), when one was recorded. */
  replay_id: string | null;
}

export interface UserRow {
  id: string;
  username: string;
  role: Role;
  created_at: string | null;
  rooms: number;
  publish_banned: boolean;
}

export interface AuditRow {
  id: string;
  room_id: string | null;
  anchor_id: string | null;
  session_id: string | null;
  /** 'audio' or 'image'. */
  kind: string;
  suggestion: string | null;
  label: string | null;
  score: number | null;
  /** As the audit handler derived it (none, light, severe...). */
  severity: string;
  /** What was done at the time: none, warning, paused, paused_pending_ban, banned... */
  action: string;
  evidence_url: string | null;
  created_at: string;
}

export interface Convention {
  id: string;
  body: string;
  updated_by: string | null;
  updated_at: string;
}

type Row = Record<string, unknown>;
const iso = (v: unknown): string | null => (v === null || v === undefined ? null : new Date(v as string).toISOString());
const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));
const str = (v: unknown): string => String(v);
/** LIKE pattern for a user's search text: its own % and _ are literal. '!' escapes (a backslash means different things in SQLite and MariaDB string literals). */
const like = (q: string) => `%${q.replace(/[!%_]/g, (c) => `!${c}`)}%`;

/** SQL true for an active publishing ban of the user in column `userCol` (a ban with no end, or one ending later). */
const activeBan = (userCol: string) =>
  `EXISTS (SELECT 1 FROM publish_bans b WHERE b.user_id = ${userCol} AND b.lifted_at IS NULL AND (b.until IS NULL OR b.until > :now))`;

/**
 * Read models of the operator console over the tables other parts own (rooms, users, live_streams,
 * live_statistics, live_audience, publish_bans, live_audit_logs, discovery's room_pins), plus the
 * table of its own: conventions. Plain SQL that SQLite and MariaDB both run.
 */
export class OperatorStore {
  constructor(private readonly db: Database) {}

  private select(sql: string, replacements: Record<string, unknown>): Promise<Row[]> {
    return this.db.sequelize.query<Row>(sql, { replacements, type: QueryTypes.SELECT });
  }

  async listRooms(options: { filter: RoomFilter; anchorId?: string; q?: string; limit: number; offset: number; now: Date }): Promise<{ total: number; rooms: OperatorRoomRow[] }> {
    const where: string[] = [];
    const params: Record<string, unknown> = { now: options.now, limit: options.limit, offset: options.offset };
    if (options.filter === 'live') where.push('r.is_live = 1');
    if (options.filter === 'pinned') where.push('p.room_id IS NOT NULL');
    if (options.filter === 'banned') where.push(`(r.stream_key_revoked = 1 OR ${activeBan('r.owner_id')})`);
    if (options.anchorId) {
      where.push('r.owner_id = :anchor');
      params.anchor = options.anchorId;
    }
    if (options.q) {
      where.push("(r.title LIKE :q ESCAPE '!' OR u.username LIKE :q ESCAPE '!' OR CAST(r.id AS CHAR) = :exact)");
      params.q = like(options.q);
      params.exact = options.q;
    }
    const from = `FROM rooms r LEFT JOIN users u ON u.id = r.owner_id LEFT JOIN room_pins p ON p.room_id = r.id ${where.length ? `WHERE ${where.join(' AND ')}` : ''}`;
    const [count] = await this.select(`SELECT COUNT(*) AS n ${from}`, params);
    const rows = await this.select(
      `SELECT r.id, r.owner_id, u.username, r.title, r.cover_url, r.is_live, r.viewers_count, r.stream_key_revoked, r.created_at, p.created_at AS pinned_at,
        CASE WHEN ${activeBan('r.owner_id')} THEN 1 ELSE 0 END AS owner_banned
       ${from}
       ORDER BY CASE WHEN p.room_id IS NULL THEN 1 ELSE 0 END, p.position, r.is_live DESC, r.id DESC LIMIT :limit OFFSET :offset`,
      params,
    );
    return { total: num(count?.n), rooms: rows.map(roomRow) };
  }

  async room(id: string, now: Date): Promise<OperatorRoomRow | null> {
    const rows = await this.select(
      `SELECT r.id, r.owner_id, u.username, r.title, r.cover_url, r.is_live, r.viewers_count, r.stream_key_revoked, r.created_at, p.created_at AS pinned_at,
        CASE WHEN ${activeBan('r.owner_id')} THEN 1 ELSE 0 END AS owner_banned
       FROM rooms r LEFT JOIN users u ON u.id = r.owner_id LEFT JOIN room_pins p ON p.room_id = r.id WHERE r.id = :id`,
      { id, now },
    );
    return rows[0] ? roomRow(rows[0]) : null;
  }

  /**
   * Sessions of the rooms with their audience figures, gift income and replay (newest first):
   * the console's room detail (one room, any status) and the anchor's "my sessions" (their rooms,
   * ended shows only, paged).
   */
  async sessions(roomIds: string[], options: { limit: number; offset?: number; endedOnly?: boolean }): Promise<{ total: number; sessions: SessionFigures[] }> {
    if (roomIds.length === 0) return { total: 0, sessions: [] };
    const where = `s.room_id IN (:rooms)${options.endedOnly ? " AND s.status = 'ended'" : ''}`;
    const replacements = { rooms: roomIds, limit: options.limit, offset: options.offset ?? 0 };
    const [count] = await this.select(`SELECT COUNT(*) AS n FROM live_streams s WHERE ${where}`, replacements);
    const rows = await this.select(
      `SELECT s.id, s.room_id, s.status, s.start_at, s.end_at, s.duration_s, s.close_method, s.close_reason, s.peak_viewers,
         st.total_viewers, a.signed_in, a.anonymous, a.watch_s, g.income, g.gifts, rp.replay_id
       FROM live_streams s
       LEFT JOIN live_statistics st ON st.session_id = s.id
       LEFT JOIN (
         SELECT session_id, COUNT(DISTINCT user_id) AS signed_in, SUM(CASE WHEN user_id IS NULL THEN 1 ELSE 0 END) AS anonymous,
           SUM(COALESCE(watch_s, 0)) AS watch_s
         FROM live_audience WHERE room_id IN (:rooms) GROUP BY session_id
       ) a ON a.session_id = s.id
       LEFT JOIN (
         SELECT session_id, SUM(anchor_income) AS income, SUM(count) AS gifts FROM orders WHERE room_id IN (:rooms) AND status = 'paid' GROUP BY session_id
       ) g ON g.session_id = s.id
       LEFT JOIN (SELECT session_id, MAX(id) AS replay_id FROM replays WHERE room_id IN (:rooms) GROUP BY session_id) rp ON rp.session_id = s.id
       WHERE ${where} ORDER BY s.created_at DESC, s.id DESC LIMIT :limit OFFSET :offset`,
      replacements,
    );
    return {
      total: num(count?.n),
      sessions: rows.map((r) => ({
        session_id: str(r.id), room_id: str(r.room_id), status: str(r.status), start_at: iso(r.start_at), end_at: iso(r.end_at),
        duration_s: r.duration_s === null ? null : num(r.duration_s), close_method: r.close_method === null ? null : num(r.close_method),
        close_reason: (r.close_reason as string | null) ?? null, peak_viewers: num(r.peak_viewers),
        unique_viewers: num(r.signed_in) + num(r.anonymous), watch_s: num(r.watch_s),
        total_viewers: r.total_viewers === null || r.total_viewers === undefined ? null : num(r.total_viewers),
        income: num(r.income), gifts: num(r.gifts), replay_id: r.replay_id === null || r.replay_id === undefined ? null : str(r.replay_id),
      })),
    };
  }

  /** What operators did to the room and its owner: force closes, publishing bans, pending bans, the console's actions (moderation_actions). Newest first. */
  async moderationHistory(roomId: string, ownerId: string, limit: number): Promise<Array<{ kind: string; at: string | null; reason: string | null; detail: Record<string, unknown> }>> {
    const [closes, bans, pending, actions] = await Promise.all([
      this.select(`SELECT id, end_at, close_reason FROM live_streams WHERE room_id = :room AND close_method = 2 ORDER BY end_at DESC LIMIT :limit`, { room: roomId, limit }),
      this.select(`SELECT id, until, reason, created_by, lifted_at, created_at FROM publish_bans WHERE user_id = :owner ORDER BY id DESC LIMIT :limit`, { owner: ownerId, limit }),
      this.select(`SELECT id, reason, status, decided_by, created_at FROM pending_bans WHERE room_id = :room OR user_id = :owner ORDER BY id DESC LIMIT :limit`, { room: roomId, owner: ownerId, limit }),
      this.select(`SELECT id, operator_id, action, source, source_id, reason, until, created_at FROM moderation_actions WHERE room_id = :room ORDER BY id DESC LIMIT :limit`, { room: roomId, limit }),
    ]);
    const items = [
      ...closes.map((r) => ({ kind: 'force_close', at: iso(r.end_at), reason: (r.close_reason as string | null) ?? null, detail: { session_id: str(r.id) } })),
      ...bans.map((r) => ({
        kind: 'publish_ban', at: iso(r.created_at), reason: (r.reason as string | null) ?? null,
        detail: { ban_id: str(r.id), until: iso(r.until), lifted_at: iso(r.lifted_at), by: r.created_by === null ? null : str(r.created_by) },
      })),
      ...pending.map((r) => ({
        kind: 'pending_ban', at: new Date(num(r.created_at)).toISOString(), reason: (r.reason as string | null) ?? null,
        detail: { pending_ban_id: str(r.id), status: str(r.status), decided_by: r.decided_by === null ? null : str(r.decided_by) },
      })),
      // The console's dismiss / warn / pause / ban (control/moderation/operator-action.service.ts).
      ...actions.map((r) => ({
        kind: str(r.action), at: new Date(num(r.created_at)).toISOString(), reason: (r.reason as string | null) ?? null,
        detail: {
          action_id: str(r.id), source: str(r.source), source_id: str(r.source_id), by: str(r.operator_id),
          until: r.until === null ? null : new Date(num(r.until)).toISOString(),
        },
      })),
    ];
    return items.sort((a, b) => (b.at ?? '').localeCompare(a.at ?? '')).slice(0, limit);
  }

  async searchUsers(options: { q?: string; role?: Role; limit: number; offset: number; now: Date }): Promise<{ total: number; users: UserRow[] }> {
    const where: string[] = [];
    const params: Record<string, unknown> = { limit: options.limit, offset: options.offset, now: options.now };
    if (options.q) {
      where.push("(u.username LIKE :q ESCAPE '!' OR CAST(u.id AS CHAR) = :exact)");
      params.q = like(options.q);
      params.exact = options.q;
    }
    if (options.role) {
      where.push('u.role = :role');
      params.role = options.role;
    }
    const from = `FROM users u ${where.length ? `WHERE ${where.join(' AND ')}` : ''}`;
    const [count] = await this.select(`SELECT COUNT(*) AS n ${from}`, params);
    const rows = await this.select(
      `SELECT u.id, u.username, u.role, u.created_at, (SELECT COUNT(*) FROM rooms r WHERE r.owner_id = u.id) AS rooms,
         CASE WHEN ${activeBan('u.id')} THEN 1 ELSE 0 END AS banned
       ${from} ORDER BY u.id DESC LIMIT :limit OFFSET :offset`,
      params,
    );
    return {
      total: num(count?.n),
      users: rows.map((r) => ({
        id: str(r.id), username: str(r.username), role: str(r.role) as Role, created_at: iso(r.created_at), rooms: num(r.rooms), publish_banned: num(r.banned) === 1,
      })),
    };
  }

  async latestConvention(): Promise<Convention | null> {
    const [row] = await this.select('SELECT id, body, updated_by, created_at FROM conventions ORDER BY id DESC LIMIT 1', {});
    return row ? conventionRow(row) : null;
  }

  async conventionHistory(limit: number): Promise<Convention[]> {
    return (await this.select('SELECT id, body, updated_by, created_at FROM conventions ORDER BY id DESC LIMIT :limit', { limit })).map(conventionRow);
  }

  async saveConvention(body: string, by: string, at: Date): Promise<void> {
    await this.db.sequelize.query('INSERT INTO conventions (body, updated_by, created_at) VALUES (:body, :by, :at)', {
      replacements: { body, by, at: at.getTime() },
    });
  }

  /** Audit verdicts (vendor callbacks, live_audit_logs), newest first, filtered by severity, room or anchor. */
  async audits(options: { severity?: string; roomId?: string; anchorId?: string; limit: number; offset: number }): Promise<{ total: number; audits: AuditRow[] }> {
    const where: string[] = [];
    const params: Record<string, unknown> = { limit: options.limit, offset: options.offset };
    if (options.severity) {
      where.push('severity = :severity');
      params.severity = options.severity;
    }
    if (options.roomId) {
      where.push('room_id = :room');
      params.room = options.roomId;
    }
    if (options.anchorId) {
      where.push('anchor_id = :anchor');
      params.anchor = options.anchorId;
    }
    const from = `FROM live_audit_logs ${where.length ? `WHERE ${where.join(' AND ')}` : ''}`;
    const [count] = await this.select(`SELECT COUNT(*) AS n ${from}`, params);
    const rows = await this.select(
      `SELECT id, room_id, anchor_id, session_id, kind, suggestion, label, score, severity, action, evidence_url, created_at ${from} ORDER BY id DESC LIMIT :limit OFFSET :offset`,
      params,
    );
    const opt = (v: unknown) => (v === null || v === undefined ? null : str(v));
    return {
      total: num(count?.n),
      audits: rows.map((r) => ({
        id: str(r.id), room_id: opt(r.room_id), anchor_id: opt(r.anchor_id), session_id: opt(r.session_id), kind: str(r.kind),
        suggestion: opt(r.suggestion), label: opt(r.label), score: r.score === null ? null : num(r.score), severity: str(r.severity),
        action: str(r.action), evidence_url: opt(r.evidence_url), created_at: new Date(num(r.created_at)).toISOString(),
      })),
    };
  }

  /** Live rooms' ids, titles and owners for the supervision wall. */
  async liveRooms(limit: number): Promise<Array<{ id: string; title: string; owner_id: string; username: string | null; cover_url: string | null }>> {
    const rows = await this.select(
      `SELECT r.id, r.title, r.owner_id, u.username, r.cover_url FROM rooms r LEFT JOIN users u ON u.id = r.owner_id
       WHERE r.is_live = 1 ORDER BY r.id LIMIT :limit`,
      { limit },
    );
    return rows.map((r) => ({ id: str(r.id), title: str(r.title), owner_id: str(r.owner_id), username: (r.username as string | null) ?? null, cover_url: (r.cover_url as string | null) ?? null }));
  }
}

function roomRow(r: Row): OperatorRoomRow {
  return {
    id: str(r.id), title: str(r.title), cover_url: (r.cover_url as string | null) ?? null,
    owner: { id: str(r.owner_id), username: (r.username as string | null) ?? null },
    is_live: num(r.is_live) === 1 || r.is_live === true, viewers: num(r.viewers_count),
    stream_key_revoked: num(r.stream_key_revoked) === 1 || r.stream_key_revoked === true,
    owner_banned: num(r.owner_banned) === 1, pinned_at: r.pinned_at === null || r.pinned_at === undefined ? null : new Date(num(r.pinned_at)).toISOString(),
    created_at: iso(r.created_at),
  };
}

function conventionRow(r: Row): Convention {
  return { id: str(r.id), body: str(r.body), updated_by: r.updated_by === null ? null : str(r.updated_by), updated_at: new Date(num(r.created_at)).toISOString() };
}
