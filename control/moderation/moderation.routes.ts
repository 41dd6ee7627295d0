import { Router } from 'express';
import { z } from 'zod';
import { asyncRoute } from '../http/async-route.js';
import { requireRole } from '../http/auth.middleware.js';
import { parseInput } from '../http/validate.js';
import type { ModerationService } from './moderation.service.js';

const userParams = z.strictObject({ id: z.string().regex(/^\d{1,19}$/, 'must be a numeric id') });
const banBody = z.strictObject({
  /** ISO time; absent or null = permanent. */
  until: z.iso.datetime({ offset: true }).nullable().optional(),
  reason: z.string().trim().min(1).max(512),
});

/** 封禁/解封开播权限 (operators). */
export function moderationRoutes(moderation: ModerationService): Router {
  const r = Router();
  r.post('/admin/users/:id/publish-ban', requireRole('operator'), asyncRoute(async (req, res) => {
    const { id } = parseInput(userParams, req.params, 'params');
    const body = parseInput(banBody, req.body, 'body');
    const ban = await moderation.banPublishing(id, body.until ? new Date(body.until) : null, body.reason, req.user!.id);
    res.status(201).json({ id: ban.id, user_id: ban.userId, until: ban.until?.toISOString() ?? null, reason: ban.reason });
  }));
  r.delete('/admin/users/:id/publish-ban', requireRole('operator'), asyncRoute(async (req, res) => {
    const { id } = parseInput(userParams, req.params, 'params');
    res.json({ user_id: id, lifted: await moderation.liftPublishingBan(id) });
  }));
  r.get('/admin/users/:id/publish-ban', requireRole('operator'), asyncRoute(async (req, res) => {
    const { id } = parseInput(userParams, req.params, 'params');
    const ban = await moderation.activeBan(id);
    res.json({ user_id: id, banned: ban !== null, until: ban?.until?.toISOString() ?? null, reason: ban?.reason ?? null });
  }));
  return r;
}
