import { Router } from 'express';
import { QueryTypes } from 'sequelize';
import { z } from 'zod';
import type { Database } from '../../core/database/database.js';
import { asyncRoute } from '../http/async-route.js';
import { requireUser } from '../http/auth.middleware.js';
import { parseInput } from '../http/validate.js';

const pageQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  offset: z.coerce.number().int().min(0).max(100_000).default(0),
});

/**
 * The personal center (seed 000 个人中心), always the caller's own data (no user id in the path, so
 * nobody can ask for another's):
 * GET /me/rooms                 my rooms (an anchor who lost a room id finds it here)
 * GET /me/following?limit&offset  anchors I follow, newest first, with their rooms
 * GET /me/fans?limit&offset       users who follow me, newest first
 * Also: /wallet, /wallet/ledger, /wallet/recharges, /me/gift-orders, /me/income (control/gifts, control/wallet).
 */
export function meRoutes(db: Database): Router {
  const r = Router();
  const select = <T extends object>(sql: string, replacements: unknown[]) => db.sequelize.query<T>(sql, { replacements, type: QueryTypes.SELECT });
  const count = async (sql: string, replacements: unknown[]) => Number((await select<{ n: string | number }>(sql, replacements))[0]?.n ?? 0);

  r.get('/me/rooms', requireUser, asyncRoute(async (req, res) => {
    const rows = await select<{ id: string | number; title: string; cover_url: string | null; is_live: number | boolean | string; created_at: Date | string }>(
      'SELECT id, title, cover_url, is_live, created_at FROM rooms WHERE owner_id = ? ORDER BY id', [req.user!.id],
    );
    res.set('Cache-Control', 'no-store').json({
      rooms: rows.map((x) => ({ id: String(x.id), title: x.title, cover_url: x.cover_url, is_live: Boolean(Number(x.is_live)), created_at: new Date(x.created_at).toISOString() })),
    });
  }));

  r.get('/me/following', requireUser, asyncRoute(async (req, res) => {
    const page = parseInput(pageQuery, req.query, 'query');
    const me = String(req.user!.id);
    const rows = await select<{ anchor_id: string | number; username: string | null; created_at: string | number }>(
      `SELECT f.anchor_id, u.username, f.created_at FROM follows f LEFT JOIN users u ON u.id = f.anchor_id
       WHERE f.user_id = ? ORDER BY f.created_at DESC, f.anchor_id DESC LIMIT ? OFFSET ?`, [me, page.limit, page.offset],
    );
    const ids = rows.map((x) => String(x.anchor_id));
    const rooms = ids.length
      ? await select<{ id: string | number; owner_id: string | number; is_live: number | boolean | string }>(
        `SELECT id, owner_id, is_live FROM rooms WHERE owner_id IN (${ids.map(() => '?').join(',')}) ORDER BY id`, ids)
      : [];
    const total = await count('SELECT COUNT(*) AS n FROM follows WHERE user_id = ?', [me]);
    res.set('Cache-Control', 'no-store').json({
      total,
      following: rows.map((x) => ({
        user_id: String(x.anchor_id), username: x.username, followed_at: new Date(Number(x.created_at)).toISOString(),
        rooms: rooms.filter((rm) => String(rm.owner_id) === String(x.anchor_id)).map((rm) => ({ id: String(rm.id), is_live: Boolean(Number(rm.is_live)) })),
      })),
      next_offset: page.offset + rows.length < total ? page.offset + rows.length : null,
    });
  }));

  r.get('/me/fans', requireUser, asyncRoute(async (req, res) => {
    const page = parseInput(pageQuery, req.query, 'query');
    const me = String(req.user!.id);
    const rows = await select<{ user_id: string | number; username: string | null; created_at: string | number }>(
      `SELECT f.user_id, u.username, f.created_at FROM follows f LEFT JOIN users u ON u.id = f.user_id
       WHERE f.anchor_id = ? ORDER BY f.created_at DESC, f.user_id DESC LIMIT ? OFFSET ?`, [me, page.limit, page.offset],
    );
    const total = await count('SELECT COUNT(*) AS n FROM follows WHERE anchor_id = ?', [me]);
    res.set('Cache-Control', 'no-store').json({
      total,
      fans: rows.map((x) => ({ user_id: String(x.user_id), username: x.username, followed_at: new Date(Number(x.created_at)).toISOString() })),
      next_offset: page.offset + rows.length < total ? page.offset + rows.length : null,
    });
  }));
  return r;
}
