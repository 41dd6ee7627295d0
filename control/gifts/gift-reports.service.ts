import { QueryTypes } from 'sequelize';
import type { Cache } from '../../core/cache/cache.port.js';
import type { Database } from '../../core/database/database.js';
import { NotFoundError } from '../../core/errors.js';
import { giftKeys } from './gift-keys.js';
import { toOrder, type GiftOrder, type OrderRow } from './gift-orders.js';

export interface RankingEntry { rank: number; userId: string; username: string | null; amount: number }
export interface SessionIncome { sessionId: string | null; roomId: string; income: number; amount: number; gifts: number; orders: number; lastAt: number }
export interface DayIncome { day: string; income: number; amount: number; gifts: number; orders: number }

const DAY_MS = 86_400_000;

/** Read side of the gift money: a show's ranking, an anchor's income per show and per day, a sender's orders. */
export class GiftReportsService {
  constructor(private readonly db: Database, private readonly cache: Cache) {}

  private select<T extends object>(sql: string, replacements: unknown[]): Promise<T[]> {
    return this.db.sequelize.query<T>(sql, { replacements, type: QueryTypes.SELECT });
  }

  /** Throws 404 `room_not_found` for a room id nobody has (a ranking of nothing is not an empty ranking). */
  async requireRoom(roomId: string): Promise<void> {
    const rows = await this.select<{ id: string }>('SELECT id FROM rooms WHERE id = ?', [roomId]);
    if (!rows[0]) throw new NotFoundError('no such room', { code: 'room_not_found' });
  }

  /** Throws 404 `anchor_not_found` unless the id is an anchor's: a user with the anchor role or a room of their own. */
  async requireAnchor(anchorId: string): Promise<void> {
    const rows = await this.select<{ id: string }>(
      "SELECT u.id FROM users u WHERE u.id = ? AND (u.role = 'anchor' OR EXISTS (SELECT 1 FROM rooms r WHERE r.owner_id = u.id))", [anchorId]);
    if (!rows[0]) throw new NotFoundError('no such anchor', { code: 'anchor_not_found' });
  }

  /** The show of a room a ranking is about: the given one (checked to belong to the room), else the room's newest. */
  async sessionOf(roomId: string, sessionId?: string): Promise<string | null> {
    const rows = sessionId
      ? await this.select<{ id: string }>('SELECT id FROM live_streams WHERE id = ? AND room_id = ?', [sessionId, roomId])
      : await this.select<{ id: string }>('SELECT id FROM live_streams WHERE room_id = ? ORDER BY created_at DESC LIMIT 1', [roomId]);
    if (sessionId && !rows[0]) throw new NotFoundError('no such live session in this room', { code: 'session_not_found' });
    return rows[0]?.id ?? null;
  }

  /**
   * Coins per sender in one show, highest first: the cache's sorted set, grown by every send. When
   * the cache lost it (the in-process cache after a restart, an evicted Redis key) the orders table
   * answers instead.
   */
  async ranking(sessionId: string, limit: number): Promise<{ entries: RankingEntry[]; source: 'cache' | 'database' }> {
    let rows = (await this.cache.zRevRange(giftKeys.sessionRanking(sessionId), 0, limit - 1)).filter((e) => e.score > 0).map((e) => ({ userId: e.member, amount: e.score }));
    let source: 'cache' | 'database' = 'cache';
    if (rows.length === 0) {
      source = 'database';
      rows = (await this.select<{ user_id: string | number; total: string | number }>(
        "SELECT user_id, SUM(amount) AS total FROM orders WHERE session_id = ? AND status = 'paid' GROUP BY user_id ORDER BY total DESC, user_id LIMIT ?", [sessionId, limit],
      )).map((r) => ({ userId: String(r.user_id), amount: Number(r.total) }));
    }
    const names = new Map<string, string>();
    if (rows.length) {
      const users = await this.select<{ id: string | number; username: string }>(
        `SELECT id, username FROM users WHERE id IN (${rows.map(() => '?').join(',')})`, rows.map((r) => r.userId),
      );
      for (const u of users) names.set(String(u.id), u.username);
    }
    return { entries: rows.map((r, i) => ({ rank: i + 1, userId: r.userId, username: names.get(r.userId) ?? null, amount: r.amount })), source };
  }

  /** An anchor's gift income per show, newest first. */
  async incomeBySession(anchorId: string, limit: number, offset: number): Promise<SessionIncome[]> {
    const rows = await this.select<{ session_id: string | null; room_id: string | number; income: string | number; amount: string | number; gifts: string | number; orders: string | number; last_at: string | number }>(
      `SELECT session_id, MIN(room_id) AS room_id, SUM(anchor_income) AS income, SUM(amount) AS amount, SUM(count) AS gifts,
         COUNT(*) AS orders, MAX(created_at) AS last_at FROM orders WHERE anchor_id = ? AND status = 'paid'
       GROUP BY session_id ORDER BY last_at DESC LIMIT ? OFFSET ?`, [anchorId, limit, offset],
    );
    return rows.map((r) => ({
      sessionId: r.session_id, roomId: String(r.room_id), income: Number(r.income), amount: Number(r.amount), gifts: Number(r.gifts),
      orders: Number(r.orders), lastAt: Number(r.last_at),
    }));
  }

  /** An anchor's gift income per UTC day between `from` and `to` (epoch ms, `to` exclusive), newest first. */
  async incomeByDay(anchorId: string, from: number, to: number): Promise<DayIncome[]> {
    const day = this.db.dialect === 'sqlite' ? `created_at / ${DAY_MS}` : `created_at DIV ${DAY_MS}`;
    const rows = await this.select<{ d: string | number; income: string | number; amount: string | number; gifts: string | number; orders: string | number }>(
      `SELECT ${day} AS d, SUM(anchor_income) AS income, SUM(amount) AS amount, SUM(count) AS gifts, COUNT(*) AS orders
       FROM orders WHERE anchor_id = ? AND status = 'paid' AND created_at >= ? AND created_at < ? GROUP BY d ORDER BY d DESC`, [anchorId, from, to],
    );
    return rows.map((r) => ({
      day: new Date(Number(r.d) * DAY_MS).toISOString().slice(0, 10), income: Number(r.income), amount: Number(r.amount),
      gifts: Number(r.gifts), orders: Number(r.orders),
    }));
  }

  /** Gift orders a user sent, newest first. */
  async sentBy(userId: string, page: { before?: string; limit: number }): Promise<GiftOrder[]> {
    const rows = await this.select<OrderRow>(
      `SELECT * FROM orders WHERE user_id = ?${page.before ? ' AND id < ?' : ''} ORDER BY id DESC LIMIT ?`,
      page.before ? [userId, page.before, page.limit] : [userId, page.limit],
    );
    return rows.map(toOrder);
  }
}
