import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import type { EventBus } from '../../core/event-bus/event-bus.port.js';
import type { BusEvents } from '../../core/events/bus-events.js';
import { NotFoundError, ValidationError } from '../../core/errors.js';
import { asyncRoute } from '../http/async-route.js';
import { CALLBACK_GROUP } from './callback-consumer.js';

const listQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100), group: z.string().max(100).optional() });
const replayQuery = z.object({ group: z.string().max(100).optional() });
const idParam = z.string().regex(/^(all|[0-9]+)$/, 'id is a dead letter id or "all"');

/**
 * Operator API over the bus's dead letters (mount at /api/v1 behind authenticate()):
 *   GET  /admin/callbacks/dead                 -> { dead: DeadLetter[] }
 *   POST /admin/callbacks/dead/{id|all}/replay -> { replayed: n }
 * Both take `?group=` (default the callback group; `transcoder` for recordings that failed to become replays).
 * `guard` is the control helper's requireRole('operator'); errors go to the app's error handler.
 */
export function createDeadLetterRouter(deps: { bus: EventBus<BusEvents>; guard: RequestHandler[] }): Router {
  const router = Router();
  router.get('/admin/callbacks/dead', ...deps.guard, asyncRoute(async (req, res) => {
    const q = listQuery.safeParse(req.query);
    if (!q.success) throw new ValidationError(q.error.issues[0]?.message ?? 'invalid query');
    res.json({ dead: await deps.bus.listDead({ group: q.data.group ?? CALLBACK_GROUP, limit: q.data.limit }) });
  }));
  router.post('/admin/callbacks/dead/:id/replay', ...deps.guard, asyncRoute(async (req, res) => {
    const id = idParam.safeParse(req.params.id);
    if (!id.success) throw new ValidationError(id.error.issues[0]?.message ?? 'invalid id');
    const group = replayQuery.safeParse(req.query);
    if (!group.success) throw new ValidationError(group.error.issues[0]?.message ?? 'invalid query');
    const replayed = await deps.bus.replayDead(id.data, { group: group.data.group ?? CALLBACK_GROUP });
    if (id.data !== 'all' && replayed === 0) throw new NotFoundError('no such dead letter');
    res.json({ replayed });
  }));
  return router;
}
