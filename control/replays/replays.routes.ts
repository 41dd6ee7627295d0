import { Router, type RequestHandler } from 'express';
import { noLimit } from '../http/rate-limits.js';
import { z } from 'zod';
import { NotFoundError } from '../../core/errors.js';
import type { ObjectStore } from '../../core/object-store/object-store.port.js';
import { sendObject } from '../../core/object-store/serve-object.js';
import { asyncRoute } from '../http/async-route.js';
import { requireRole, requireUser } from '../http/auth.middleware.js';
import { parseInput } from '../http/validate.js';
import type { ReplayUrlSigner } from './replay-url.js';
import { MAX_CLIP_SECONDS, type ReplayService } from './replay.service.js';

const idParam = z.object({ id: z.string().regex(/^\d{1,19}$/, 'id is a number') });
const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  before: z.string().regex(/^\d{1,19}$/, 'before is a replay id').optional(),
});
const clipBody = z.object({
  start: z.number().min(0).max(7 * 24 * 3600),
  duration: z.number().gt(0).max(MAX_CLIP_SECONDS),
}).strict();
const mediaQuery = z.object({ key: z.string().min(1).max(1024), exp: z.coerce.number().int(), sig: z.string().min(1).max(128) });

/**
 * GET    /rooms/{id}/replays?limit=&before=   a room's replays, newest first (`next` is the next page's `before`)
 * GET    /replays/{id}                        one replay with playback URLs (per segment) and poster
 * DELETE /replays/{id}                        the room's anchor or an operator; objects removed
 * POST   /replays/{id}/clips {start,duration} a keyframe-aligned clip cut without re-encoding
 * GET    /replay-media?key&exp&sig            the local folder's bytes for a signed URL (Range, HEAD)
 */
export function replaysRoutes(deps: {
  service: ReplayService; objects: ObjectStore; signer: ReplayUrlSigner;
  /** ONAIR_RATE_CLIPS (control/http/rate-limits.ts), per user. */
  clipLimit?: RequestHandler;
}): Router {
  const r = Router();
  const { service } = deps;

  r.get('/rooms/:id/replays', asyncRoute(async (req, res) => {
    const { id } = parseInput(idParam, req.params, 'params');
    const page = parseInput(pageQuery, req.query, 'query');
    res.json(await service.listByRoom(id, { limit: page.limit, ...(page.before ? { before: page.before } : {}) }));
  }));

  r.get('/replays/:id', asyncRoute(async (req, res) => {
    const { id } = parseInput(idParam, req.params, 'params');
    // The URLs inside expire: never cache the answer longer than they live.
    res.set('Cache-Control', 'no-store').json(await service.view(id));
  }));

  r.delete('/replays/:id', requireRole('anchor', 'operator'), asyncRoute(async (req, res) => {
    const { id } = parseInput(idParam, req.params, 'params');
    await service.delete(req.user!, id);
    res.status(204).end();
  }));

  r.post('/replays/:id/clips', requireUser, deps.clipLimit ?? noLimit, asyncRoute(async (req, res) => {
    const { id } = parseInput(idParam, req.params, 'params');
    const body = parseInput(clipBody, req.body, 'body');
    res.status(201).set('Cache-Control', 'no-store').json(await service.clip(id, body.start, body.duration));
  }));

  const media = asyncRoute(async (req, res) => {
    const q = parseInput(mediaQuery, req.query, 'query');
    // One answer for a bad signature, an expired URL and a key that is not a replay's: nothing to probe.
    if (!(q.key.startsWith('replays/') || q.key.startsWith('clips/')) || !deps.signer.verify(q.key, q.exp, q.sig)) {
      throw new NotFoundError('no such media, or the link expired', { code: 'media_not_found' });
    }
    await sendObject(deps.objects, q.key, req, res, { cacheControl: 'private, max-age=60' });
  });
  r.get('/replay-media', media);
  r.head('/replay-media', media);
  return r;
}
