import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { MEDIA_SIGNATURE_HEADER, MEDIA_TIMESTAMP_HEADER } from '../../core/callbacks/media-callback-signature.js';
import { CallbackReceiver, CALLBACK_BODY_LIMIT, callbackRequestMeta, type CallbackReceiverDeps } from './callback-receiver.js';

export type CallbackRouterDeps = CallbackReceiverDeps;

/**
 * POST /callback        Tencent Cloud CSS event notifications (sign = MD5(key + t))
 * POST /callback/media  the media engine's events when it runs as its own service (HMAC-SHA256)
 *
 * Refusals: malformed JSON / bad fields / unknown event_type 400, forged or stale signature 401,
 * source outside config.callbacks.allow 403, body over 256 KB 413, bus down 503 (the vendor
 * retries); each counted in onair_callbacks_refused_total, a sample written to live_events.
 * Mount at /api/v1 BEFORE any app-wide JSON parser: the HMAC is over the raw bytes. For the rate
 * the benchmark shows, serve these two paths with createCallbackFastPath() in front of express.
 */
export function createCallbackRouter(deps: CallbackRouterDeps | CallbackReceiver): Router {
  const receiver = deps instanceof CallbackReceiver ? deps : new CallbackReceiver(deps);
  const router = Router();
  const raw = express.raw({ type: () => true, limit: CALLBACK_BODY_LIMIT });
  const send = (res: Response, a: { status: number; body: unknown }) => res.status(a.status).json(a.body);

  router.post('/callback', raw, (req, res, next) => {
    // An app-wide parser may have parsed the body already: take it as is.
    const meta = callbackRequestMeta(req);
    const done = Buffer.isBuffer(req.body) ? receiver.css(req.body, undefined, meta) : receiver.css(null, req.body, meta);
    done.then((a) => send(res, a), next);
  });

  router.post('/callback/media', raw, (req, res, next) => {
    if (!Buffer.isBuffer(req.body)) {
      return send(res, receiver.refuse(400, 'invalid_callback', 'raw body unavailable (router mounted after a JSON parser)', 'media-http'));
    }
    receiver.media(req.body, req.get(MEDIA_TIMESTAMP_HEADER), req.get(MEDIA_SIGNATURE_HEADER)).then((a) => send(res, a), next);
  });

  // Body parser failures (too large, bad encoding) on these two routes: answered and logged here.
  router.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    const e = err as { type?: string; status?: number };
    if (!req.path.startsWith('/callback') || typeof e.status !== 'number') return next(err);
    const source = req.path.startsWith('/callback/media') ? 'media-http' : 'css';
    if (e.type === 'entity.too.large') return send(res, receiver.tooLarge(source));
    return send(res, receiver.refuse(e.status >= 400 && e.status < 500 ? e.status : 400, 'invalid_body', e.type ?? 'unreadable body', source));
  });
  return router;
}
