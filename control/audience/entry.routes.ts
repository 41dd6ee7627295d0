import { Router, type RequestHandler } from 'express';
import { noLimit } from '../http/rate-limits.js';
import { z } from 'zod';
import { asyncRoute } from '../http/async-route.js';
import { requireUser } from '../http/auth.middleware.js';
import { parseInput } from '../http/validate.js';
import { roomParams } from '../rooms/room.schema.js';
import type { AudienceStore } from './audience.store.js';
import type { RoomEntryService } from './room-entry.service.js';

/**
 * Seed 000's viewer journey:
 *   POST /rooms/{id}/enter   -> play URLs with a token bound to the viewer, the chat URL, the online count
 *   POST /rooms/{id}/exit    -> media connections dropped, online -1, watch time recorded
 *   GET  /me/watch-history   -> the rooms the caller entered, with watch time (?limit=&before=, newest first)
 */
const historyQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(100),
  /** Page backwards: viewings with an id below this one (the previous page's next_before). */
  before: z.string().regex(/^\d{1,19}$/, 'must be a numeric id').optional(),
});

export function entryRoutes(entry: RoomEntryService, audience: AudienceStore, limit: RequestHandler = noLimit): Router {
  const r = Router();
  r.post('/rooms/:id/enter', limit, asyncRoute(async (req, res) => {
    const { id } = parseInput(roomParams, req.params, 'params');
    res.set('Cache-Control', 'no-store').json(await entry.enter(req.user, id));
  }));
  r.post('/rooms/:id/exit', requireUser, asyncRoute(async (req, res) => {
    const { id } = parseInput(roomParams, req.params, 'params');
    res.json(await entry.exit(req.user!, id));
  }));
  r.get('/me/watch-history', requireUser, asyncRoute(async (req, res) => {
    const page = parseInput(historyQuery, req.query, 'query');
    const items = await audience.history(req.user!.id, page);
    res.set('Cache-Control', 'no-store').json({ items, next_before: items.length === page.limit ? items.at(-1)!.id : null });
  }));
  return r;
}
