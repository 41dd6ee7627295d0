import { Router, type RequestHandler } from 'express';
import { noLimit } from '../http/rate-limits.js';
import { z } from 'zod';
import { parseDuration } from '../../core/config/duration.js';
import type { PubSub } from '../../core/pubsub/pubsub.port.js';
import { roomChannel } from '../../core/pubsub/wire.js';
import { asyncRoute } from '../http/async-route.js';
import { requireRole, requireUser } from '../http/auth.middleware.js';
import { parseInput } from '../http/validate.js';
import { roomId } from '../rooms/room.schema.js';
import type { MessageStore } from './message.store.js';
import type { RoomModerationService } from './room-moderation.service.js';
import type { RoomModerationStore } from './room-moderation.store.js';

const userId = z.string().regex(/^\d{1,19}$/, 'must be a numeric id');
const messageId = z.string().regex(/^\d{1,16}-\d{1,16}$/, 'must be a message id');
const roomOnly = z.strictObject({ id: roomId });
const roomUser = z.strictObject({ id: roomId, uid: userId });
const roomMessage = z.strictObject({ id: roomId, mid: messageId });
/** '10m', '30s', or milliseconds; between 1 s and 30 days. */
const duration = z.union([z.number().int(), z.string().max(16)]).transform((v, ctx) => {
  try {
    const ms = typeof v === 'number' ? v : parseDuration(v);
    if (ms >= 1000 && ms <= 30 * 86_400_000) return ms;
  } catch { /* reported below */ }
  ctx.addIssue({ code: 'custom', message: 'a duration between 1s and 30d (e.g. "10m")' });
  return z.NEVER;
});
const reason = z.string().trim().min(1).max(200);
const kickBody = z.strictObject({ user_id: userId, duration: duration.optional(), reason: reason.optional() });
const muteBody = z.strictObject({ user_id: userId, duration, reason: reason.optional() });
const userBody = z.strictObject({ user_id: userId });
const settingsBody = z.strictObject({
  anonymous: z.boolean().nullable().optional(),
  /** The room's own rules; null (or an empty string) removes them. */
  rules: z.string().trim().max(2000).nullable().optional().transform((v) => (v === '' ? null : v)),
}).refine((b) => b.anonymous !== undefined || b.rules !== undefined, 'give anonymous, rules or both');
const slowBody = z.strictObject({ seconds: z.number().int().min(0).max(3600) });
const reportBody = z.strictObject({ message_id: messageId.optional(), reason: z.string().trim().min(1).max(500) });
const historyQuery = z.strictObject({ after: messageId.optional(), limit: z.coerce.number().int().min(1).max(200).default(50) });
const listQuery = z.strictObject({ status: z.enum(['open', 'closed', 'all']).default('open'), limit: z.coerce.number().int().min(1).max(500).default(100) });
const logQuery = z.strictObject({ room_id: roomId.optional(), limit: z.coerce.number().int().min(1).max(500).default(100) });

/**
 * Chat history and in-room moderation over HTTP (the live part is the WebSocket):
 *   GET    /rooms/{id}/chat?after=&limit=           recent messages (the same history a resume reads)
 *   POST   /rooms/{id}/kick {user_id, duration?, reason?}
 *   POST   /rooms/{id}/mute {user_id, duration, reason?}     DELETE /rooms/{id}/mute/{uid}
 *   GET    /rooms/{id}/admins   POST /rooms/{id}/admins {user_id}   DELETE /rooms/{id}/admins/{uid}
 *   GET    /rooms/{id}/blacklist   POST /rooms/{id}/blacklist {user_id}   DELETE /rooms/{id}/blacklist/{uid}
 *   POST   /rooms/{id}/slow-mode {seconds}
 *   GET    /rooms/{id}/chat-settings   PUT /rooms/{id}/chat-settings {anonymous?: true|false|null, rules?: string|null}
 *          (anonymous null: follow ONAIR_CHAT_ANONYMOUS; rules: shown on entering, after the platform's conventions)
 *   DELETE /rooms/{id}/messages/{message_id}
 *   POST   /rooms/{id}/reports {message_id?, reason}
 * Operators: GET /admin/chat/reports?status= (each report with `message`: the reported line's text,
 *   author user_id/username, hidden, at; null for a room report or a line not recorded), POST /admin/chat/reports/{id}/close,
 *   GET /admin/chat/moderation-log?room_id=, GET /admin/rooms/{id}/messages
 */
export function chatRoutes(deps: {
  moderation: RoomModerationService; store: RoomModerationStore; messages: MessageStore; pubsub: PubSub;
  /** ONAIR_RATE_REPORTS per user (EdgeRateLimits.reports). */
  reportLimit?: RequestHandler;
}): Router {
  const { moderation } = deps;
  const r = Router();
  r.get('/rooms/:id/chat', asyncRoute(async (req, res) => {
    const { id } = parseInput(roomOnly, req.params, 'params');
    const q = parseInput(historyQuery, req.query, 'query');
    const page = await deps.pubsub.recent(roomChannel(id), { after: q.after, limit: q.limit });
    res.set('Cache-Control', 'no-store').json({ messages: page.entries.map((e) => ({ ...(e.message as object), id: e.id })), gap: page.gap });
  }));
  r.post('/rooms/:id/kick', requireUser, asyncRoute(async (req, res) => {
    const { id } = parseInput(roomOnly, req.params, 'params');
    const b = parseInput(kickBody, req.body, 'body');
    res.json(await moderation.kick(req.user!, id, b.user_id, { durationMs: b.duration, reason: b.reason }));
  }));
  r.post('/rooms/:id/mute', requireUser, asyncRoute(async (req, res) => {
    const { id } = parseInput(roomOnly, req.params, 'params');
    const b = parseInput(muteBody, req.body, 'body');
    res.json(await moderation.mute(req.user!, id, b.user_id, b.duration, b.reason));
  }));
  r.delete('/rooms/:id/mute/:uid', requireUser, asyncRoute(async (req, res) => {
    const { id, uid } = parseInput(roomUser, req.params, 'params');
    await moderation.unmute(req.user!, id, uid);
    res.status(204).end();
  }));
  r.get('/rooms/:id/admins', requireUser, asyncRoute(async (req, res) => {
    const { id } = parseInput(roomOnly, req.params, 'params');
    res.json({ admins: await moderation.listAdmins(req.user!, id) });
  }));
  r.post('/rooms/:id/admins', requireUser, asyncRoute(async (req, res) => {
    const { id } = parseInput(roomOnly, req.params, 'params');
    const b = parseInput(userBody, req.body, 'body');
    res.json(await moderation.setAdmin(req.user!, id, b.user_id, true));
  }));
  r.delete('/rooms/:id/admins/:uid', requireUser, asyncRoute(async (req, res) => {
    const { id, uid } = parseInput(roomUser, req.params, 'params');
    res.json(await moderation.setAdmin(req.user!, id, uid, false));
  }));
  r.get('/rooms/:id/blacklist', requireUser, asyncRoute(async (req, res) => {
    const { id } = parseInput(roomOnly, req.params, 'params');
    res.json({ users: await moderation.listBlacklist(req.user!, id) });
  }));
  r.post('/rooms/:id/blacklist', requireUser, asyncRoute(async (req, res) => {
    const { id } = parseInput(roomOnly, req.params, 'params');
    const b = parseInput(userBody, req.body, 'body');
    res.json(await moderation.blacklist(req.user!, id, b.user_id, true));
  }));
  r.delete('/rooms/:id/blacklist/:uid', requireUser, asyncRoute(async (req, res) => {
    const { id, uid } = parseInput(roomUser, req.params, 'params');
    res.json(await moderation.blacklist(req.user!, id, uid, false));
  }));
  r.post('/rooms/:id/slow-mode', requireUser, asyncRoute(async (req, res) => {
    const { id } = parseInput(roomOnly, req.params, 'params');
    const b = parseInput(slowBody, req.body, 'body');
    await moderation.slowMode(req.user!, id, b.seconds);
    res.json({ seconds: b.seconds });
  }));
  r.put('/rooms/:id/chat-settings', requireUser, asyncRoute(async (req, res) => {
    const { id } = parseInput(roomOnly, req.params, 'params');
    const b = parseInput(settingsBody, req.body, 'body');
    if (b.anonymous !== undefined) await moderation.setAnonymous(req.user!, id, b.anonymous);
    if (b.rules !== undefined) await moderation.setRules(req.user!, id, b.rules);
    res.json(await moderation.settings(id));
  }));
  r.get('/rooms/:id/chat-settings', asyncRoute(async (req, res) => {
    const { id } = parseInput(roomOnly, req.params, 'params');
    res.json(await moderation.settings(id));
  }));
  r.delete('/rooms/:id/messages/:mid', requireUser, asyncRoute(async (req, res) => {
    const { id, mid } = parseInput(roomMessage, req.params, 'params');
    await moderation.deleteMessage(req.user!, id, mid);
    res.status(204).end();
  }));
  r.post('/rooms/:id/reports', requireUser, deps.reportLimit ?? noLimit, asyncRoute(async (req, res) => {
    const { id } = parseInput(roomOnly, req.params, 'params');
    const b = parseInput(reportBody, req.body, 'body');
    res.status(201).json(await moderation.report(req.user!, id, { messageId: b.message_id, reason: b.reason }));
  }));
  r.get('/admin/chat/reports', requireRole('operator'), asyncRoute(async (req, res) => {
    const q = parseInput(listQuery, req.query, 'query');
    const reports = await deps.store.listReports(q.status, q.limit);
    // The reported lines quoted in one read (not one per report): text, author, hidden.
    const quoted = await deps.messages.quote(reports.flatMap((r) => (r.message_id ? [{ roomId: r.room_id, keptId: r.message_id }] : [])));
    res.json({ reports: reports.map((r) => ({ ...r, message: r.message_id ? quoted.get(`${r.room_id}:${r.message_id}`) ?? null : null })) });
  }));
  r.post('/admin/chat/reports/:id/close', requireRole('operator'), asyncRoute(async (req, res) => {
    const { id } = parseInput(z.strictObject({ id: userId }), req.params, 'params');
    res.json({ closed: await deps.store.closeReport(id) });
  }));
  r.get('/admin/chat/moderation-log', requireRole('operator'), asyncRoute(async (req, res) => {
    const q = parseInput(logQuery, req.query, 'query');
    res.json({ entries: await deps.store.listLog({ roomId: q.room_id, limit: q.limit }) });
  }));
  r.get('/admin/rooms/:id/messages', requireRole('operator'), asyncRoute(async (req, res) => {
    const { id } = parseInput(roomOnly, req.params, 'params');
    res.json({ messages: await deps.messages.list(id, { includeHidden: true }) });
  }));
  return r;
}
