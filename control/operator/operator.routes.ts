import { Router } from 'express';
import { z } from 'zod';
import type { OnairConfig } from '../../core/config/schema.js';
import { NotFoundError } from '../../core/errors.js';
import { asyncRoute } from '../http/async-route.js';
import { requireRole, requireUser } from '../http/auth.middleware.js';
import { parseInput } from '../http/validate.js';
import { ROLES } from '../auth/user.js';
import { roomParams } from '../rooms/room.schema.js';
import { rtmpServerUrl } from '../rooms/room-urls.js';
import type { RoomStore } from '../rooms/room.store.js';
import type { MediaControl } from '../../core/media/media-contract.js';
import { ingestFigures, type OperatorService } from './operator.service.js';
import { ROOM_FILTERS } from './operator.store.js';

const id = z.string().regex(/^\d{1,19}$/, 'must be a numeric id');
const paging = {
  page: z.coerce.number().int().min(1).max(100_000).default(1),
  page_size: z.coerce.number().int().min(1).max(100).default(20),
};
const roomsQuery = z.strictObject({
  filter: z.enum(ROOM_FILTERS).default('all'),
  anchor_id: id.optional(),
  q: z.string().trim().min(1).max(64).optional(),
  ...paging,
});
const usersQuery = z.strictObject({
  q: z.string().trim().min(1).max(64).optional(),
  role: z.enum(ROLES).optional(),
  ...paging,
});
const auditsQuery = z.strictObject({
  severity: z.string().regex(/^[a-z_]{1,16}$/).optional(),
  room_id: id.optional(),
  anchor_id: id.optional(),
  ...paging,
});
const userParams = z.strictObject({ id });
const roleBody = z.strictObject({ role: z.enum(ROLES) });
/** Plain text (paragraphs separated by blank lines); the pages render it as text, never as HTML. */
const conventionsBody = z.strictObject({ body: z.string().trim().min(1).max(8000) });
const mySessionsQuery = z.strictObject({
  room_id: id.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  offset: z.coerce.number().int().min(0).max(100_000).default(0),
});

/**
 * The operator console's API (ser-blive), beside force close/restore (live.routes.ts), publishing
 * bans and pending bans (moderation.routes.ts) and dead letters (callbacks):
 *   GET    /admin/rooms?filter=all|live|pinned|banned&anchor_id=&q=&page=&page_size=
 *   GET    /admin/rooms/{id}              sessions with audience figures, moderation history, ingest
 * (pin/unpin: discovery's POST/DELETE /admin/rooms/{id}/pin)
 *   GET    /admin/users?q=&role=&page=&page_size=
 *   PUT    /admin/users/{id}/role         {role}
 *   PUT    /admin/conventions             {body}; GET /admin/conventions/history
 *   GET    /admin/audits?severity=&room_id=&anchor_id=&page=&page_size=   audit verdicts (read only)
 *   GET    /admin/overview                streams, viewers, bandwidth, CPU, memory, dead letters
 *   GET    /admin/wall                    live rooms with their newest frame and figures
 */
export function operatorRoutes(operator: OperatorService): Router {
  const r = Router();
  const op = requireRole('operator');

  r.get('/admin/rooms', op, asyncRoute(async (req, res) => {
    const q = parseInput(roomsQuery, req.query, 'query');
    const { total, rooms } = await operator.listRooms({ filter: q.filter, anchorId: q.anchor_id, q: q.q, page: q.page, pageSize: q.page_size });
    res.json({ total, page: q.page, page_size: q.page_size, rooms });
  }));
  r.get('/admin/rooms/:id', op, asyncRoute(async (req, res) => {
    const { id: roomId } = parseInput(roomParams, req.params, 'params');
    res.json(await operator.roomDetail(roomId));
  }));
  r.get('/admin/users', op, asyncRoute(async (req, res) => {
    const q = parseInput(usersQuery, req.query, 'query');
    const { total, users } = await operator.searchUsers({ q: q.q, role: q.role, page: q.page, pageSize: q.page_size });
    res.json({ total, page: q.page, page_size: q.page_size, users });
  }));
  r.put('/admin/users/:id/role', op, asyncRoute(async (req, res) => {
    const { id: userId } = parseInput(userParams, req.params, 'params');
    const { role } = parseInput(roleBody, req.body, 'body');
    await operator.setRole(req.user!.id, userId, role);
    res.json({ user_id: userId, role });
  }));

  r.put('/admin/conventions', op, asyncRoute(async (req, res) => {
    const { body } = parseInput(conventionsBody, req.body, 'body');
    res.json(await operator.saveConventions(body, req.user!.id));
  }));
  r.get('/admin/conventions/history', op, asyncRoute(async (_req, res) => {
    res.json({ versions: await operator.conventionHistory() });
  }));

  r.get('/admin/audits', op, asyncRoute(async (req, res) => {
    const q = parseInput(auditsQuery, req.query, 'query');
    const { total, audits } = await operator.audits({ severity: q.severity, roomId: q.room_id, anchorId: q.anchor_id, page: q.page, pageSize: q.page_size });
    res.json({ total, page: q.page, page_size: q.page_size, audits });
  }));
  r.get('/admin/overview', op, asyncRoute(async (_req, res) => {
    res.set('Cache-Control', 'no-store').json(await operator.overview());
  }));
  r.get('/admin/wall', op, asyncRoute(async (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ rooms: await operator.wall() });
  }));
  return r;
}

/**
 * What the pages need from anyone (no login):
 *   GET /site          the OBS server URL (ONAIR_PUBLIC_HOST, the RTMP port and app) for "how to go live", recharge_enabled
 *   GET /conventions   the room rules viewers see on entering a room ({body: null} until an operator writes them)
 * and from a signed-in anchor:
 *   GET /me/studio/rooms   their rooms with live state, key revocation and, while live, the encoder's
 *                          figures (bitrate, fps, keyframe interval): the studio's one poll
 *   GET /me/sessions?room_id=&limit=&offset=   "my sessions": their ended shows (one room's, or all
 *                          their rooms'), newest first: start, end, duration, peak and unique viewers,
 *                          watch time, gift income, the replay when one was recorded, the summary link
 */
export function siteRoutes(deps: {
  config: Pick<OnairConfig, 'host' | 'publicHost' | 'http' | 'rtmp'> & { payments?: Pick<OnairConfig['payments'], 'provider'> };
  operator: OperatorService;
  rooms: RoomStore;
  media: Pick<MediaControl, 'listStreams'>;
}): Router {
  const r = Router();
  r.get('/site', (_req, res) => {
    res.json({
      rtmp_server: rtmpServerUrl(deps.config), rtmp_port: deps.config.rtmp.port, rtmp_app: deps.config.rtmp.app,
      // The personal center offers recharges only when a payment provider is configured.
      recharge_enabled: (deps.config.payments?.provider ?? 'off') !== 'off',
    });
  });
  r.get('/conventions', asyncRoute(async (_req, res) => {
    const c = await deps.operator.conventions();
    res.json({ body: c?.body ?? null, updated_at: c?.updated_at ?? null });
  }));
  r.get('/me/studio/rooms', requireUser, asyncRoute(async (req, res) => {
    const [rooms, streams] = await Promise.all([deps.rooms.listByOwner(req.user!.id), deps.media.listStreams().catch(() => [])]);
    const byName = new Map(streams.map((s) => [s.streamName, s]));
    res.set('Cache-Control', 'no-store').json({
      rooms: rooms.map((room) => ({
        id: room.id, title: room.title, cover_url: room.coverUrl, is_live: room.isLive, viewers: room.viewersCount,
        record: room.recordEnabled, stream_key_revoked: room.streamKeyRevoked, created_at: room.createdAt.toISOString(),
        ingest: ingestFigures(byName.get(room.id)),
      })),
    });
  }));
  r.get('/me/sessions', requireUser, asyncRoute(async (req, res) => {
    const q = parseInput(mySessionsQuery, req.query, 'query');
    const rooms = await deps.rooms.listByOwner(req.user!.id);
    if (q.room_id && !rooms.some((x) => x.id === q.room_id)) throw new NotFoundError('no such room of yours', { code: 'room_not_found' });
    const titles = new Map(rooms.map((x) => [x.id, x.title]));
    const { total, sessions } = await deps.operator.anchorSessions(q.room_id ? [q.room_id] : [...titles.keys()], { limit: q.limit, offset: q.offset });
    res.set('Cache-Control', 'no-store').json({
      total,
      sessions: sessions.map((s) => ({
        session_id: s.session_id, room_id: s.room_id, room_title: titles.get(s.room_id) ?? null, start_at: s.start_at, end_at: s.end_at,
        duration_s: s.duration_s, close_method: s.close_method, peak_viewers: s.peak_viewers, unique_viewers: s.unique_viewers, watch_s: s.watch_s,
        total_viewers: s.total_viewers, income: s.income, gifts: s.gifts,
        replay: s.replay_id ? { id: s.replay_id, url: `/watch/${s.room_id}?replay=${s.replay_id}`, api_url: `/api/v1/replays/${s.replay_id}` } : null,
        summary_url: `/studio#session=${s.session_id}`,
      })),
      next_offset: q.offset + sessions.length < total ? q.offset + sessions.length : null,
    });
  }));
  return r;
}
