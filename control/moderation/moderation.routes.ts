import { Router } from 'express';
import { z } from 'zod';
import { asyncRoute } from '../http/async-route.js';
import { requireRole } from '../http/auth.middleware.js';
import { parseInput } from '../http/validate.js';
import type { ModerationService } from './moderation.service.js';
import type { PendingBanService } from './pending-ban.service.js';
import type { PendingBan } from './pending-ban.store.js';

const userParams = z.strictObject({ id: z.string().regex(/^\d{1,19}$/, 'must be a numeric id') });
const banBody = z.strictObject({
  /** ISO time; absent or null = permanent. */
  until: z.iso.datetime({ offset: true }).nullable().optional(),
  reason: z.string().trim().min(1).max(512),
});

const pendingParams = z.strictObject({ id: z.string().regex(/^\d{1,19}$/, 'must be a numeric id') });
const pendingQuery = z.strictObject({
  status: z.enum(['pending', 'confirmed', 'dismissed', 'all']).default('pending'),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

function pendingJson(p: PendingBan) {
  return {
    id: p.id, user_id: p.userId, room_id: p.roomId, session_id: p.sessionId, reason: p.reason, evidence_url: p.evidenceUrl,
    status: p.status, decided_by: p.decidedBy, decided_at: p.decidedAt?.toISOString() ?? null, created_at: p.createdAt.toISOString(),
  };
}

/**
 * 封禁/解封开播权限 (operators), and the bans that wait for one:
 *   GET  /admin/moderation/pending-bans?status=pending|confirmed|dismissed|all&limit=
 *   POST /admin/moderation/pending-bans/{id}/confirm   permanent ban + stream key revoked
 *   POST /admin/moderation/pending-bans/{id}/dismiss   the pause that came with it is lifted
 */
export function moderationRoutes(moderation: ModerationService, pendingBans?: PendingBanService): Router {
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
  if (pendingBans) {
    r.get('/admin/moderation/pending-bans', requireRole('operator'), asyncRoute(async (req, res) => {
      const q = parseInput(pendingQuery, req.query, 'query');
      const list = await pendingBans.list({ status: q.status === 'all' ? undefined : q.status, limit: q.limit });
      res.json({ pending_bans: list.map(pendingJson) });
    }));
    r.post('/admin/moderation/pending-bans/:id/confirm', requireRole('operator'), asyncRoute(async (req, res) => {
      const { id } = parseInput(pendingParams, req.params, 'params');
      const { pending, ban } = await pendingBans.confirm(id, req.user!.id);
      res.json({ ...pendingJson(pending), ban: { id: ban.id, until: null, reason: ban.reason } });
    }));
    r.post('/admin/moderation/pending-bans/:id/dismiss', requireRole('operator'), asyncRoute(async (req, res) => {
      const { id } = parseInput(pendingParams, req.params, 'params');
      const { pending, pauseLifted } = await pendingBans.dismiss(id, req.user!.id);
      res.json({ ...pendingJson(pending), pause_lifted: pauseLifted });
    }));
  }
  return r;
}
