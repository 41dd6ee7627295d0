import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import type { Database } from '../../core/database/database.js';
import { NotFoundError, ValidationError, ForbiddenError } from '../../core/errors.js';
import { asyncRoute } from '../http/async-route.js';

const roomId = z.string().regex(/^\d{1,19}$/, 'room id is a number');

/**
 * POST   /rooms/{id}/follow  follow the room's anchor (their go-live notifications)
 * DELETE /rooms/{id}/follow  stop following
 * Both idempotent, answer `{ following: boolean }`. Mount at /api/v1 after authenticate();
 * `guard` is requireUser. follows(user_id, anchor_id) feeds the go-live notifications (notifications/session-live.handler.ts).
 */
export function createFollowRouter(deps: {
  db: Database;
  rooms: { findById(id: string): Promise<{ id: string; ownerId: string } | null> };
  guard: RequestHandler[];
}): Router {
  const router = Router();
  const anchorOf = async (raw: string | undefined) => {
    const id = roomId.safeParse(raw);
    if (!id.success) throw new ValidationError(id.error.issues[0]?.message ?? 'invalid room id');
    const room = await deps.rooms.findById(id.data);
    if (!room) throw new NotFoundError('no such room', { code: 'room_not_found' });
    return room.ownerId;
  };
  const ignore = deps.db.dialect === 'sqlite' ? 'INSERT OR IGNORE' : 'INSERT IGNORE';
  router.post('/rooms/:id/follow', ...deps.guard, asyncRoute(async (req, res) => {
    const anchorId = await anchorOf(req.params.id);
    if (anchorId === req.user!.id) throw new ForbiddenError('you cannot follow yourself', { code: 'self_follow' });
    await deps.db.sequelize.query(`${ignore} INTO follows (user_id, anchor_id, created_at) VALUES (?, ?, ?)`, { replacements: [req.user!.id, anchorId, Date.now()] });
    res.json({ following: true });
  }));
  router.delete('/rooms/:id/follow', ...deps.guard, asyncRoute(async (req, res) => {
    const anchorId = await anchorOf(req.params.id);
    await deps.db.sequelize.query('DELETE FROM follows WHERE user_id = ? AND anchor_id = ?', { replacements: [req.user!.id, anchorId] });
    res.json({ following: false });
  }));
  return router;
}
