import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { NotFoundError } from '../../core/errors.js';
import { asyncRoute } from '../http/async-route.js';
import { parseInput } from '../http/validate.js';
import type { NotificationPush } from './notification-push.js';
import type { NotificationStore } from './notification.store.js';
import type { NotificationTickets } from './notification-ticket.js';

const listQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  /** Page backwards: notifications with an id below this one. */
  before: z.string().regex(/^\d{1,19}$/, 'must be a numeric id').optional(),
  /** `true`/`1`: unread ones only. */
  unread: z.enum(['true', 'false', '1', '0']).optional().transform((v) => v === 'true' || v === '1'),
});
const idParams = z.strictObject({ id: z.string().regex(/^\d{1,19}$/, 'must be a numeric id') });

/**
 * GET  /notifications?limit=&before=&unread=  the logged-in user's notifications, newest first
 *      (live_started from followed anchors, audit_warning for anchors):
 *      `{ notifications, unread_count, next_before }`
 * POST /notifications/{id}/read   marks one read: `{ notification, unread_count }`; another user's is 404 notification_not_found, as a missing one
 * POST /notifications/read-all    marks every unread one read: `{ marked, unread_count }`
 * POST /notifications/ws-ticket   a ticket for the socket's URL (`?ticket=`): one socket of this user, once, within
 *      ONAIR_NOTIFY_TICKET_TTL: `201 { ticket, expires_in (s), url }`; the browser's JWT stays out of URLs
 * Read changes reach the user's notification sockets as a new `unread` count.
 * Mount at /api/v1 after authenticate(); `guard` is requireUser.
 */
export function notificationsRoutes(deps: { store: NotificationStore; tickets?: Pick<NotificationTickets, 'issue' | 'ttlMs'>; push?: Pick<NotificationPush, 'unreadChanged'>; guard: RequestHandler[] }): Router {
  const r = Router();
  const { store } = deps;
  const announce = (userId: string) => {
    deps.push?.unreadChanged(userId).catch(() => undefined);
  };
  r.get('/notifications', ...deps.guard, asyncRoute(async (req, res) => {
    const q = parseInput(listQuery, req.query, 'query');
    const userId = req.user!.id;
    const [rows, unread] = await Promise.all([store.list(userId, q), store.unreadCount(userId)]);
    const notifications = rows.map(({ userId: _owner, ...n }) => n);
    res.set('Cache-Control', 'no-store').json({
      notifications, unread_count: unread, next_before: rows.length === q.limit ? rows.at(-1)!.id : null,
    });
  }));
  r.post('/notifications/read-all', ...deps.guard, asyncRoute(async (req, res) => {
    const userId = req.user!.id;
    const marked = await store.markAllRead(userId, Date.now());
    if (marked > 0) announce(userId);
    res.json({ marked, unread_count: await store.unreadCount(userId) });
  }));
  r.post('/notifications/ws-ticket', ...deps.guard, asyncRoute(async (req, res) => {
    if (!deps.tickets) throw new NotFoundError('no notification socket here', { code: 'not_found' });
    const { ticket } = await deps.tickets.issue(String(req.user!.id));
    res.status(201).set('Cache-Control', 'no-store').json({
      ticket, expires_in: Math.round(deps.tickets.ttlMs / 1000), url: `/ws/notification?ticket=${ticket}`,
    });
  }));
  r.post('/notifications/:id/read', ...deps.guard, asyncRoute(async (req, res) => {
    const { id } = parseInput(idParams, req.params, 'params');
    const userId = req.user!.id;
    const owner = await store.ownerOf(id);
    // Another user's notification answers exactly as a missing one: ids are sequential, and a
    // different answer would tell a prober which ids exist.
    if (owner === null || owner !== String(userId)) throw new NotFoundError('no such notification', { code: 'notification_not_found' });
    if (await store.markRead(userId, id, Date.now())) announce(userId);
    const { userId: _owner, ...notification } = (await store.get(id))!;
    res.json({ notification, unread_count: await store.unreadCount(userId) });
  }));
  return r;
}
