import { QueryTypes } from 'sequelize';
import type { Database } from '../../core/database/database.js';
import { ConflictError, NotFoundError } from '../../core/errors.js';
import type { Logger } from '../../core/logging/logger.js';
import { roomChannel, type PubSub } from '../../core/pubsub/index.js';

export interface SessionCounters { sessionId: string; likes: number; shares: number }

/** How often at most a room's like/share totals go out into its chat (per control node). */
export const COUNTS_BROADCAST_INTERVAL_MS = 1_000;

/**
 * Likes and shares of a live show. Likes arrive batched (a client sends the taps of the last moment
 * as one `count`), are added to the show's counters in the database, and the room's chat gets the
 * totals as `{v:1, type:'likes', room_id, session_id, likes, shares}` at most once a second per
 * node: thousands of taps become one message, not thousands.
 */
export class SocialService {
  private readonly pending = new Map<string, NodeJS.Timeout>();

  constructor(private readonly deps: {
    db: Database;
    rooms: { findById(id: string): Promise<{ id: string } | null> };
    sessions: { findActiveByRoom(roomId: string): Promise<{ id: string; status: string } | null> };
    pubsub: PubSub;
    log: Logger;
  }) {}

  private async liveSession(roomId: string): Promise<string> {
    if (!(await this.deps.rooms.findById(roomId))) throw new NotFoundError('no such room', { code: 'room_not_found' });
    const session = await this.deps.sessions.findActiveByRoom(roomId);
    if (!session || session.status !== 'live') throw new ConflictError('the room is not live', { code: 'room_not_live' });
    return session.id;
  }

  private async add(roomId: string, field: 'likes' | 'shares', n: number): Promise<SessionCounters> {
    const sessionId = await this.liveSession(roomId);
    const { db } = this.deps;
    const now = Date.now();
    const likes = field === 'likes' ? n : 0;
    const shares = field === 'shares' ? n : 0;
    const sql = db.dialect === 'sqlite'
      ? `INSERT INTO live_session_counters (session_id, room_id, likes, shares, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(session_id) DO UPDATE SET likes = likes + excluded.likes, shares = shares + excluded.shares, updated_at = excluded.updated_at`
      : `INSERT INTO live_session_counters (session_id, room_id, likes, shares, updated_at) VALUES (?, ?, ?, ?, ?)
         ON DUPLICATE KEY UPDATE likes = likes + VALUES(likes), shares = shares + VALUES(shares), updated_at = VALUES(updated_at)`;
    await db.sequelize.query(sql, { replacements: [sessionId, roomId, likes, shares, now] });
    const counters = (await this.counters(sessionId))!;
    this.scheduleBroadcast(roomId, sessionId);
    return counters;
  }

  like(roomId: string, count: number): Promise<SessionCounters> {
    return this.add(roomId, 'likes', count);
  }

  share(roomId: string): Promise<SessionCounters> {
    return this.add(roomId, 'shares', 1);
  }

  async counters(sessionId: string): Promise<SessionCounters | null> {
    const [row] = await this.deps.db.sequelize.query<{ likes: string | number; shares: string | number }>(
      'SELECT likes, shares FROM live_session_counters WHERE session_id = ?', { replacements: [sessionId], type: QueryTypes.SELECT },
    );
    return row ? { sessionId, likes: Number(row.likes), shares: Number(row.shares) } : null;
  }

  private scheduleBroadcast(roomId: string, sessionId: string): void {
    if (this.pending.has(roomId)) return;
    const timer = setTimeout(() => {
      this.pending.delete(roomId);
      void (async () => {
        const c = await this.counters(sessionId);
        if (!c) return;
        await this.deps.pubsub.publish(roomChannel(roomId), { v: 1, type: 'likes', room_id: roomId, session_id: sessionId, likes: c.likes, shares: c.shares });
      })().catch((err: unknown) => this.deps.log.warn({ err, roomId }, 'like totals could not be broadcast'));
    }, COUNTS_BROADCAST_INTERVAL_MS);
    timer.unref();
    this.pending.set(roomId, timer);
  }

  /** Stops the pending broadcasts (shutdown). */
  stop(): void {
    for (const t of this.pending.values()) clearTimeout(t);
    this.pending.clear();
  }
}
