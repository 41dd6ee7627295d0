import { Router } from 'express';
import { asyncRoute } from '../http/async-route.js';
import { requireRole, requireUser } from '../http/auth.middleware.js';
import { ForbiddenError, NotFoundError } from '../../core/errors.js';
import type { LiveSessionStore } from './live-session.store.js';
import type { SettlementService } from '../settlement/settlement.service.js';
import { parseInput } from '../http/validate.js';
import type { LiveSession } from './live-session.js';
import type { LiveSessionService } from './live-session.service.js';
import { closeBody, forceCloseBody, sessionParams, startBody } from './live.schema.js';
import type { RoomService } from '../rooms/room.service.js';
import { roomParams } from '../rooms/room.schema.js';

export function sessionJson(s: LiveSession) {
  return {
    session_id: s.id, room_id: s.roomId, anchor_id: s.anchorId, status: s.status,
    start_at: s.startAt?.toISOString() ?? null, end_at: s.endAt?.toISOString() ?? null,
    duration_s: s.durationS, close_method: s.closeMethod, close_reason: s.closeReason, peak_viewers: s.peakViewers,
  };
}

/** The anchor's side (ser-live /start, /close). */
export function liveRoutes(live: LiveSessionService): Router {
  const r = Router();
  r.post('/live/start', requireRole('anchor'), asyncRoute(async (req, res) => {
    const { room_id } = parseInput(startBody, req.body, 'body');
    const started = await live.start(req.user!, room_id);
    res.set('Cache-Control', 'no-store').json({
      session_id: started.session.id, status: started.session.status, push_url: started.pushUrl,
      expires_at: started.expiresAt.toISOString(),
    });
  }));
  r.post('/live/close', requireRole('anchor'), asyncRoute(async (req, res) => {
    const { room_id } = parseInput(closeBody, req.body, 'body');
    res.json(sessionJson(await live.close(req.user!, room_id)));
  }));
  return r;
}

/** The operator's side (ser-blive): force close and restore. */
export function adminLiveRoutes(live: LiveSessionService, rooms: RoomService): Router {
  const r = Router();
  r.post('/admin/live/close', requireRole('operator'), asyncRoute(async (req, res) => {
    const { room_id, reason } = parseInput(forceCloseBody, req.body, 'body');
    const result = await live.forceClose(req.user!, room_id, reason);
    res.json({ room_id, stream_key_revoked: true, session: result.session ? sessionJson(result.session) : null });
  }));
  r.post('/admin/rooms/:id/restore', requireRole('operator'), asyncRoute(async (req, res) => {
    const { id } = parseInput(roomParams, req.params, 'params');
    await rooms.restore(id);
    // The new key goes to the owner (GET /rooms/{id}/stream-key), not to the operator.
    res.json({ room_id: id, restored: true });
  }));
  return r;
}

/**
 * A show's summary (seed 000 ser-live /summary): the session and, once settlement has run, its
 * statistics. Only the anchor who ran it and operators may read it.
 */
export function sessionRoutes(sessions: LiveSessionStore, settlement: SettlementService): Router {
  const r = Router();
  r.get('/live/sessions/:id', requireUser, asyncRoute(async (req, res) => {
    const { id } = parseInput(sessionParams, req.params, 'params');
    const session = await sessions.findById(id);
    if (!session) throw new NotFoundError('no such live session');
    const user = req.user!;
    if (user.role !== 'operator' && String(user.id) !== session.anchorId) throw new ForbiddenError('not your live session');
    const stats = session.status === 'ended' ? await settlement.get(id) : null;
    res.json({
      ...sessionJson(session),
      statistics: stats && {
        duration_s: stats.durationS, peak_viewers: stats.peakViewers, total_viewers: stats.totalViewers,
        gift_amount: stats.giftAmount, gift_income: stats.giftIncome, gift_count: stats.giftCount, settled_at: stats.settledAt.toISOString(),
      },
    });
  }));
  return r;
}
