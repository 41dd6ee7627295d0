import { Router } from 'express';
import { z } from 'zod';
import { ValidationError } from '../../core/errors.js';
import { asyncRoute } from '../http/async-route.js';
import { requireRole } from '../http/auth.middleware.js';
import { parseInput } from '../http/validate.js';
import { ACTION_SOURCES, OPERATOR_ACTIONS } from './operator-action.store.js';
import type { OperatorActionService } from './operator-action.service.js';

const id = z.string().regex(/^\d{1,19}$/, 'must be a numeric id');
/** 30 days: the longest moderation pause an operator may choose here (as the service's default maximum). */
const MAX_PAUSE_MINUTES = 43_200;
const actionBody = z.strictObject({
  action: z.enum(OPERATOR_ACTIONS),
  source: z.enum(ACTION_SOURCES),
  source_id: id,
  reason: z.string().trim().min(1).max(512),
  /** pause only: 1 minute to 30 days (the service also holds it to the configured maximum pause). */
  minutes: z.number().int().min(1).max(MAX_PAUSE_MINUTES).optional(),
});
const listQuery = z.strictObject({
  room_id: id.optional(),
  source: z.enum(ACTION_SOURCES).optional(),
  source_id: id.optional(),
  page: z.coerce.number().int().min(1).max(100_000).default(1),
  page_size: z.coerce.number().int().min(1).max(100).default(20),
});

/**
 * The console's actions on audit verdicts, viewer reports, anchors' in-room moderation actions and rooms:
 *   POST /admin/moderation/actions {action: dismiss|warn|pause|ban, source: audit|report|room_log|room, source_id, reason, minutes?}
 *   GET  /admin/moderation/actions?room_id=&source=&source_id=&page=&page_size=   the log, newest first
 */
export function operatorActionRoutes(actions: OperatorActionService): Router {
  const r = Router();
  const op = requireRole('operator');
  r.post('/admin/moderation/actions', op, asyncRoute(async (req, res) => {
    const b = parseInput(actionBody, req.body, 'body');
    if (b.action !== 'pause' && b.minutes !== undefined) throw new ValidationError('minutes is for pause only');
    res.status(201).json(await actions.act({ operatorId: req.user!.id, action: b.action, source: b.source, sourceId: b.source_id, reason: b.reason, minutes: b.minutes }));
  }));
  r.get('/admin/moderation/actions', op, asyncRoute(async (req, res) => {
    const q = parseInput(listQuery, req.query, 'query');
    const { total, actions: list } = await actions.list({ roomId: q.room_id, source: q.source, sourceId: q.source_id, page: q.page, pageSize: q.page_size });
    res.json({ total, page: q.page, page_size: q.page_size, actions: list });
  }));
  return r;
}
