import { Router, type RequestHandler } from 'express';
import { noLimit } from '../http/rate-limits.js';
import { asyncRoute } from '../http/async-route.js';
import { parseInput } from '../http/validate.js';
import { roomParams } from '../rooms/room.schema.js';
import { playGrant, type PlaybackService } from './playback.service.js';

/** `limit`: the per-address rate limit of token issue (control/http/rate-limits.ts). */
export function playbackRoutes(playback: PlaybackService, limit: RequestHandler = noLimit): Router {
  const r = Router();
  // Anonymous callers get an anonymous token; a bearer token binds it to the viewer.
  r.get('/rooms/:id/play-token', limit, asyncRoute(async (req, res) => {
    const { id } = parseInput(roomParams, req.params, 'params');
    const issued = await playback.issuePlayToken(id, req.user?.id);
    res.set('Cache-Control', 'no-store').json(playGrant(issued));
  }));
  return r;
}
