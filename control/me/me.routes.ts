import { Router } from 'express';
import { z } from 'zod';
import { asyncRoute } from '../http/async-route.js';
import { requireUser } from '../http/auth.middleware.js';
import { parseInput } from '../http/validate.js';
import type { PersonalCenterStore } from './personal-center.store.js';

const pageQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  offset: z.coerce.number().int().min(0).max(100_000).default(0),
});
/** Rooms: oldest first, 100 a page unless asked (an anchor has a few). */
const roomsQuery = pageQuery.extend({ limit: z.coerce.number().int().min(1).max(100).default(100) });
const iso = (ms: number) => new Date(ms).toISOString();
const nextOffset = (offset: number, got: number, total: number) => (offset + got < total ? offset + got : null);

/**
 * The personal center (seed 000 个人中心), always the caller's own data (no user id in the path, so
 * nobody can ask for another's):
 * GET /me/rooms?limit&offset      my rooms, oldest first (an anchor who lost a room id finds it here)
 * GET /me/following?limit&offset  anchors I follow, newest first, with their rooms
 * GET /me/fans?limit&offset       users who follow me, newest first
 * Also: /wallet, /wallet/ledger, /wallet/recharges, /me/gift-orders, /me/income (control/gifts, control/wallet).
 */
export function meRoutes(store: PersonalCenterStore): Router {
  const r = Router();
  r.get('/me/rooms', requireUser, asyncRoute(async (req, res) => {
    const page = parseInput(roomsQuery, req.query, 'query');
    const { items, total } = await store.rooms(String(req.user!.id), page);
    res.set('Cache-Control', 'no-store').json({
      total,
      rooms: items.map((x) => ({ id: x.id, title: x.title, cover_url: x.coverUrl, is_live: x.isLive, created_at: x.createdAt.toISOString() })),
      next_offset: nextOffset(page.offset, items.length, total),
    });
  }));
  r.get('/me/following', requireUser, asyncRoute(async (req, res) => {
    const page = parseInput(pageQuery, req.query, 'query');
    const { items, total } = await store.following(String(req.user!.id), page);
    res.set('Cache-Control', 'no-store').json({
      total,
      following: items.map((f) => ({
        user_id: f.userId, username: f.username, followed_at: iso(f.followedAt), rooms: f.rooms.map((x) => ({ id: x.id, is_live: x.isLive })),
      })),
      next_offset: nextOffset(page.offset, items.length, total),
    });
  }));
  r.get('/me/fans', requireUser, asyncRoute(async (req, res) => {
    const page = parseInput(pageQuery, req.query, 'query');
    const { items, total } = await store.fans(String(req.user!.id), page);
    res.set('Cache-Control', 'no-store').json({
      total,
      fans: items.map((f) => ({ user_id: f.userId, username: f.username, followed_at: iso(f.followedAt) })),
      next_offset: nextOffset(page.offset, items.length, total),
    });
  }));
  return r;
}
