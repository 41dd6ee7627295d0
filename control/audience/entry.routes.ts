import { Router, type RequestHandler } from 'express';
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
 *   GET  /me/watch-history   -> the rooms the caller entered, with watch time
 */
export function entryRoutes(entry: RoomEntryService, audience: AudienceStore, limit: RequestHandler = (_req, _res, next) => next()): Router {
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
    res.json({ items: await audience.history(req.user!.id) });
  }));
  return r;
}
