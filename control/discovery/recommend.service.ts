import { QueryTypes } from 'sequelize';
import type { Cache } from '../../core/cache/cache.port.js';
import { cacheKeys, cacheTtl } from '../../core/cache/keys.js';
import type { Database } from '../../core/database/database.js';
import type { Logger } from '../../core/logging/logger.js';
import type { RoomView } from '../rooms/room.service.js';

export type Recommended = RoomView & { pinned: boolean; followed: boolean; hot_score: number };

/**
 * The hot score of a live room: online viewers count most, then coins of gifts in the show, then
 * likes. score = viewers + gift coins / 10 + min(likes / 100, viewers + 1): likes lift a room by at
 * most its audience (plus one). Likes cost nothing: one account liking at the budget's pace
 * (ONAIR_RATE_LIKES, 100 a second) added 600 points in one rebuild of the ranking and put a room
 * nobody watched above rooms with hundreds of viewers.
 */
export function hotScore(input: { viewers: number; giftCoins: number; likes: number }): number {
  return input.viewers + input.giftCoins / 10 + Math.min(input.likes / 100, input.viewers + 1);
}

/** Snowflake session ids grow with time: a longer or larger decimal string is the newer show. */
function newerFirst(a: string | null, b: string | null): number {
  const x = a ?? '';
  const y = b ?? '';
  return y.length - x.length || (y > x ? 1 : y < x ? -1 : 0);
}

const HOT_REBUILD_LOCK = 'lock:hot:rebuild';

/**
 * GET /rooms/recommended (seed 000 /recommend): live rooms, operator-pinned first (by position),
 * then live rooms of anchors the caller follows, then the hot ranking. The hot ranking is the
 * seed's `zset:live:hot` sorted set (Redis, or the in-process cache), rebuilt from viewers, the
 * show's gift coins and likes when it expires (10 minutes, seed 000's TTL); a room that went live
 * since the last rebuild comes after the ranked ones (newest first) until the next.
 */
export class RecommendService {
  constructor(private readonly deps: {
    db: Database;
    cache: Cache;
    rooms: { listLive(limit: number): Promise<RoomView[]> };
    log: Logger;
  }) {}

  private select<T extends object>(sql: string, replacements: unknown[] = []): Promise<T[]> {
    return this.deps.db.sequelize.query<T>(sql, { replacements, type: QueryTypes.SELECT });
  }

  async list(userId: string | undefined, page: { limit: number; offset: number }): Promise<{ rooms: Recommended[]; total: number }> {
    const live = await this.deps.rooms.listLive(1000);
    const pins = await this.select<{ room_id: string | number; position: number }>('SELECT room_id, position FROM room_pins ORDER BY position, created_at');
    const followed = new Set(userId
      ? (await this.select<{ anchor_id: string | number }>('SELECT anchor_id FROM follows WHERE user_id = ?', [userId])).map((r) => String(r.anchor_id))
      : []);
    const scores = await this.hotScores(live);
    const pinOrder = new Map(pins.map((p, i) => [String(p.room_id), i]));
    const tier = (v: RoomView) => (pinOrder.has(v.id) ? 0 : followed.has(v.owner.id) ? 1 : 2);
    const ordered = live
      .map((v): Recommended => ({ ...v, pinned: pinOrder.has(v.id), followed: followed.has(v.owner.id), hot_score: scores.get(v.id) ?? -1 }))
      .sort((a, b) => tier(a) - tier(b)
        || (pinOrder.get(a.id) ?? 0) - (pinOrder.get(b.id) ?? 0)
        || b.hot_score - a.hot_score
        || newerFirst(a.session_id, b.session_id));
    return { rooms: ordered.slice(page.offset, page.offset + page.limit), total: ordered.length };
  }

  /** Room id -> hot score, from the cached ranking; rebuilt (by one node at a time) once it expired. */
  private async hotScores(live: RoomView[]): Promise<Map<string, number>> {
    const { cache } = this.deps;
    const key = cacheKeys.hotRooms();
    if (await cache.exists(key)) return new Map((await cache.zRevRange(key, 0, -1)).map((e) => [e.member, e.score]));
    const fresh = await this.computeScores(live);
    if (fresh.size && (await cache.setIfAbsent(HOT_REBUILD_LOCK, '1', 30_000))) {
      try {
        for (const [roomId, score] of fresh) await cache.zIncrBy(key, score, roomId);
        await cache.expire(key, cacheTtl.hotRooms);
      } finally {
        await cache.del(HOT_REBUILD_LOCK);
      }
    }
    return fresh;
  }

  private async computeScores(live: RoomView[]): Promise<Map<string, number>> {
    const sessions = live.map((v) => v.session_id).filter((s): s is string => s !== null);
    if (!sessions.length) return new Map();
    const marks = sessions.map(() => '?').join(',');
    const gifts = new Map((await this.select<{ session_id: string; coins: string | number }>(
      `SELECT session_id, SUM(amount) AS coins FROM orders WHERE session_id IN (${marks}) AND status = 'paid' GROUP BY session_id`, sessions,
    )).map((r) => [r.session_id, Number(r.coins)]));
    const likes = new Map((await this.select<{ session_id: string; likes: string | number }>(
      `SELECT session_id, likes FROM live_session_counters WHERE session_id IN (${marks})`, sessions,
    )).map((r) => [r.session_id, Number(r.likes)]));
    return new Map(live.map((v) => [v.id, hotScore({
      viewers: v.viewers, giftCoins: gifts.get(v.session_id ?? '') ?? 0, likes: likes.get(v.session_id ?? '') ?? 0,
    })]));
  }

  /** Pins a room (operators); `position` orders the pinned rooms. */
  async pin(roomId: string, operatorId: string, position: number): Promise<void> {
    const sql = this.deps.db.dialect === 'sqlite'
      ? 'INSERT INTO room_pins (room_id, position, pinned_by, created_at) VALUES (?, ?, ?, ?) ON CONFLICT(room_id) DO UPDATE SET position = excluded.position, pinned_by = excluded.pinned_by'
      : 'INSERT INTO room_pins (room_id, position, pinned_by, created_at) VALUES (?, ?, ?, ?) ON DUPLICATE KEY UPDATE position = VALUES(position), pinned_by = VALUES(pinned_by)';
    await this.deps.db.sequelize.query(sql, { replacements: [roomId, position, operatorId, Date.now()] });
    this.deps.log.info({ roomId, operatorId, position }, 'room pinned');
  }

  async unpin(roomId: string): Promise<boolean> {
    // QueryTypes.UPDATE: both dialects then answer the number of rows the statement changed.
    const [, changed] = await this.deps.db.sequelize.query('DELETE FROM room_pins WHERE room_id = ?', { replacements: [roomId], type: QueryTypes.UPDATE });
    return Number(changed) > 0;
  }
}
