import { Router, type Request, type RequestHandler } from 'express';
import { noLimit } from '../http/rate-limits.js';
import type { LikeBudget } from './like-budget.js';
import { z } from 'zod';
import type { OnairConfig } from '../../core/config/schema.js';
import { NotFoundError } from '../../core/errors.js';
import { asyncRoute } from '../http/async-route.js';
import { requireRole, requireUser } from '../http/auth.middleware.js';
import { parseInput } from '../http/validate.js';
import { trustProxyFn } from '../http/trust-proxy.js';
import { publicHost } from '../rooms/room-urls.js';
import { roomParams } from '../rooms/room.schema.js';
import type { RecommendService } from './recommend.service.js';
import type { SocialService } from './social.service.js';

const recommendQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  offset: z.coerce.number().int().min(0).max(10_000).default(0),
});
const likeBody = z.strictObject({ count: z.number().int().min(1).max(100).default(1) });
const pinBody = z.strictObject({ position: z.number().int().min(0).max(1000).default(0) });

/** A Host / X-Forwarded-Host value fit for a URL: a name, IPv4 or [IPv6], and an optional port. */
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;
const firstValue = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v)?.split(',')[0]?.trim() || undefined;

/**
 * The base URL (scheme://host[:port], no path) of the links this router hands out (share_url), in
 * this order:
 * 1. ONAIR_EDGE_URL when set: where viewers reach the site (the edge proxies the pages as well);
 * 2. a request from ONAIR_TRUSTED_PROXIES (the nginx in front): its X-Forwarded-Proto (http or
 *    https) and X-Forwarded-Host, else its Host header (nginx passes the client's);
 * 3. the request's own Host header, over the connection's scheme (control itself speaks http):
 *    the address the client reached the server at;
 * 4. ONAIR_PUBLIC_HOST (else the bind host) and ONAIR_HTTP_PORT over http, when the request named no
 *    usable host (HTTP/1.0, or a malformed Host header).
 * ONAIR_PUBLIC_HOST alone is not a base: it has no scheme and no port (behind HTTPS or the edge
 * `http://{host}:{ONAIR_HTTP_PORT}` was a wrong link).
 */
export function publicBaseUrl(config: Pick<OnairConfig, 'host' | 'publicHost' | 'http' | 'rtmp' | 'edge'>, req: Request, trusted: (address: string) => boolean): string {
  if (config.edge?.url) return config.edge.url.replace(/\/+$/, '');
  const fromProxy = trusted(req.socket.remoteAddress ?? '');
  const host = [fromProxy ? firstValue(req.headers['x-forwarded-host']) : undefined, firstValue(req.headers.host)]
    .find((h): h is string => h !== undefined && h.length <= 261 && HOST.test(h));
  if (!host) return `http://${publicHost(config)}:${config.http.port}`;
  const proto = fromProxy ? firstValue(req.headers['x-forwarded-proto'])?.toLowerCase() : undefined;
  const scheme = proto === 'https' || proto === 'http' ? proto : (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
  return `${scheme}://${host}`;
}

/**
 * GET    /rooms/recommended (also /recommend)  ?limit=&offset=  pinned, followed, then hot live rooms
 * POST   /rooms/{id}/like {count}   taps batched by the client (1-100); 409 room_not_live
 * POST   /rooms/{id}/share          -> {share_url, likes, shares}; share_url = publicBaseUrl() + /watch/{id}
 * POST   /admin/rooms/{id}/pin {position}, DELETE /admin/rooms/{id}/pin   operators
 * Mounted before the rooms router: /rooms/recommended must not reach /rooms/{id}.
 */
export function discoveryRoutes(deps: {
  recommend: RecommendService; social: SocialService; config: OnairConfig;
  rooms: { findById(id: string): Promise<{ id: string } | null> };
  /** ONAIR_RATE_LIKES per user and room (shared with the chat socket's likes). */
  likeBudget?: LikeBudget;
  /** ONAIR_RATE_SHARES per user (EdgeRateLimits.shares). */
  shareLimit?: RequestHandler;
  /**
   * Throws ForbiddenError (`kicked`, `blacklisted`) when the user may not be in the room
   * (control/audience's checkAccess): likes and shares count on the show and in the hot ranking.
   */
  roomAccess?: (roomId: string, userId: string) => Promise<void>;
}): Router {
  const { recommend, social, config } = deps;
  const trusted = trustProxyFn(config.http.trustedProxies);
  const r = Router();
  const list = asyncRoute(async (req, res) => {
    const page = parseInput(recommendQuery, req.query, 'query');
    const { rooms, total } = await recommend.list(req.user ? String(req.user.id) : undefined, page);
    res.set('Cache-Control', 'no-store').json({ rooms, total, next_offset: page.offset + rooms.length < total ? page.offset + rooms.length : null });
  });
  r.get('/rooms/recommended', list);
  r.get('/recommend', list);
  r.post('/rooms/:id/like', requireUser, asyncRoute(async (req, res) => {
    const { id } = parseInput(roomParams, req.params, 'params');
    const { count } = parseInput(likeBody, req.body, 'body');
    await deps.roomAccess?.(id, String(req.user!.id));
    await deps.likeBudget?.take(id, String(req.user!.id), count);
    const c = await social.like(id, count);
    res.json({ room_id: id, session_id: c.sessionId, likes: c.likes, shares: c.shares });
  }));
  r.post('/rooms/:id/share', requireUser, deps.shareLimit ?? noLimit, asyncRoute(async (req, res) => {
    const { id } = parseInput(roomParams, req.params, 'params');
    await deps.roomAccess?.(id, String(req.user!.id));
    const c = await social.share(id);
    res.json({
      room_id: id, session_id: c.sessionId, likes: c.likes, shares: c.shares,
      share_url: `${publicBaseUrl(config, req, trusted)}/watch/${id}`,
    });
  }));
  r.post('/admin/rooms/:id/pin', requireRole('operator'), asyncRoute(async (req, res) => {
    const { id } = parseInput(roomParams, req.params, 'params');
    const { position } = parseInput(pinBody, req.body, 'body');
    if (!(await deps.rooms.findById(id))) throw new NotFoundError('no such room', { code: 'room_not_found' });
    await recommend.pin(id, String(req.user!.id), position);
    res.json({ room_id: id, pinned: true, position });
  }));
  r.delete('/admin/rooms/:id/pin', requireRole('operator'), asyncRoute(async (req, res) => {
    const { id } = parseInput(roomParams, req.params, 'params');
    res.json({ room_id: id, pinned: false, was_pinned: await recommend.unpin(id) });
  }));
  return r;
}
