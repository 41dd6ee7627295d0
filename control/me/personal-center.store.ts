import { QueryTypes } from 'sequelize';
import type { Database } from '../../core/database/database.js';

export interface MyRoom { id: string; title: string; coverUrl: string | null; isLive: boolean; createdAt: Date }
export interface Followed { userId: string; username: string | null; followedAt: number; rooms: Array<{ id: string; isLive: boolean }> }
export interface Fan { userId: string; username: string | null; followedAt: number }
export interface Paged<T> { items: T[]; total: number }

const flag = (v: number | boolean | string) => Boolean(Number(v));

/** The personal center's reads (seed 000 个人中心): a user's rooms, who they follow, who follows them. */
export class PersonalCenterStore {
  constructor(private readonly db: Database) {}

  private select<T extends object>(sql: string, replacements: unknown[]): Promise<T[]> {
    return this.db.sequelize.query<T>(sql, { replacements, type: QueryTypes.SELECT });
  }

  private async count(sql: string, replacements: unknown[]): Promise<number> {
    return Number((await this.select<{ n: string | number }>(sql, replacements))[0]?.n ?? 0);
  }

  async rooms(ownerId: string, page: { limit: number; offset: number } = { limit: 100, offset: 0 }): Promise<Paged<MyRoom>> {
    const rows = await this.select<{ id: string | number; title: string; cover_url: string | null; is_live: number | boolean | string; created_at: Date | string }>(
      'SELECT id, title, cover_url, is_live, created_at FROM rooms WHERE owner_id = ? ORDER BY id LIMIT ? OFFSET ?', [ownerId, page.limit, page.offset],
    );
    return {
      total: await this.count('SELECT COUNT(*) AS n FROM rooms WHERE owner_id = ?', [ownerId]),
      items: rows.map((x) => ({ id: String(x.id), title: x.title, coverUrl: x.cover_url, isLive: flag(x.is_live), createdAt: new Date(x.created_at) })),
    };
  }

  /** Anchors `userId` follows, newest first, each with their rooms. */
  async following(userId: string, page: { limit: number; offset: number }): Promise<Paged<Followed>> {
    const rows = await this.select<{ anchor_id: string | number; username: string | null; created_at: string | number }>(
      `SELECT f.anchor_id, u.username, f.created_at FROM follows f LEFT JOIN users u ON u.id = f.anchor_id
       WHERE f.user_id = ? ORDER BY f.created_at DESC, f.anchor_id DESC LIMIT ? OFFSET ?`, [userId, page.limit, page.offset],
    );
    const ids = rows.map((x) => String(x.anchor_id));
    const rooms = ids.length
      ? await this.select<{ id: string | number; owner_id: string | number; is_live: number | boolean | string }>(
        `SELECT id, owner_id, is_live FROM rooms WHERE owner_id IN (${ids.map(() => '?').join(',')}) ORDER BY id`, ids)
      : [];
    return {
      total: await this.count('SELECT COUNT(*) AS n FROM follows WHERE user_id = ?', [userId]),
      items: rows.map((x) => ({
        userId: String(x.anchor_id), username: x.username, followedAt: Number(x.created_at),
        rooms: rooms.filter((r) => String(r.owner_id) === String(x.anchor_id)).map((r) => ({ id: String(r.id), isLive: flag(r.is_live) })),
      })),
    };
  }

  /** Users who follow `anchorId`, newest first. */
  async fans(anchorId: string, page: { limit: number; offset: number }): Promise<Paged<Fan>> {
    const rows = await this.select<{ user_id: string | number; username: string | null; created_at: string | number }>(
      `SELECT f.user_id, u.username, f.created_at FROM follows f LEFT JOIN users u ON u.id = f.user_id
       WHERE f.anchor_id = ? ORDER BY f.created_at DESC, f.user_id DESC LIMIT ? OFFSET ?`, [anchorId, page.limit, page.offset],
    );
    return {
      total: await this.count('SELECT COUNT(*) AS n FROM follows WHERE anchor_id = ?', [anchorId]),
      items: rows.map((x) => ({ userId: String(x.user_id), username: x.username, followedAt: Number(x.created_at) })),
    };
  }
}
