import express, { Router, type NextFunction, type Request, type Response } from 'express';
import type { EventBus } from '../../core/event-bus/event-bus.port.js';
import type { BusEvents } from '../../core/events/bus-events.js';
import type { Cache } from '../../core/cache/cache.port.js';
import type { Logger } from '../../core/logging/logger.js';
import { verifyCssSignature } from '../../core/callbacks/css-signature.js';
import {
  verifyMediaCallback, MEDIA_CALLBACK_WINDOW_MS, MEDIA_SIGNATURE_HEADER, MEDIA_TIMESTAMP_HEADER,
} from '../../core/callbacks/media-callback-signature.js';
import { cssEnvelopeSchema, isKnownEventType, parseCssCallback, withoutSecrets } from './callback.schema.js';
import { mapMediaEvent, mediaCallbackSchema, publishCallback } from './media-events.js';
import type { LiveEventLog } from './live-event-log.js';
import type { StreamStats } from '../../core/media/media-contract.js';

export interface CallbackRouterDeps {
  bus: EventBus<BusEvents>;
  /** config.callbacks: key (CSS MD5 signatures), mediaKey (HMAC of the engine's callbacks). */
  callbacks: { key?: string; mediaKey?: string };
  events: LiveEventLog;
  /** Remembers media callback signatures for the replay window (setIfAbsent with TTL). */
  cache: Cache;
  /** Media heartbeats that arrive over HTTP (stream.stats). */
  onHeartbeat?: (stats: StreamStats) => Promise<void> | void;
  log: Logger;
  /** Largest accepted body (default 256 KB; vendor callbacks are a few hundred bytes). */
  bodyLimit?: string;
  now?: () => number;
}

type Refusal = { status: number; code: string; reason: string; source: 'css' | 'media-http'; body?: unknown; eventType?: number | null };

/**
 * POST /callback        Tencent Cloud CSS event notifications (sign = MD5(key + t))
 * POST /callback/media  the media engine's events when it runs as its own service (HMAC-SHA256)
 *
 * Verify, append to the bus, answer `{"code":0}` at once: no business logic runs here (seed 000:
 * 验签 -> 写入队列 -> 立即返回). Refusals: malformed JSON / bad fields / unknown event_type 400,
 * forged or stale signature 401, body over the limit 413, bus down 503 (the vendor retries).
 * Each one is written to live_events with its reason. Mount at /api/v1 BEFORE any app-wide JSON
 * parser: this router reads the raw body itself (the HMAC is over the exact bytes).
 */
export function createCallbackRouter(deps: CallbackRouterDeps): Router {
  const router = Router();
  const now = deps.now ?? Date.now;
  const raw = express.raw({ type: () => true, limit: deps.bodyLimit ?? '256kb' });
  const log = deps.log.child({ mod: 'callbacks' });

  const refuse = (res: Response, r: Refusal) => {
    log.warn({ source: r.source, status: r.status, reason: r.reason, eventType: r.eventType }, 'callback refused');
    deps.events.write({ status: 'refused', source: r.source, reason: r.reason, eventType: r.eventType ?? null, body: r.body });
    res.status(r.status).json({ error: { code: r.code, message: r.reason } });
  };

  const parseJson = (req: Request): { ok: true; value: unknown } | { ok: false } => {
    if (!Buffer.isBuffer(req.body)) return { ok: true, value: req.body }; // parsed by an app-wide parser
    try {
      return { ok: true, value: JSON.parse(req.body.toString('utf8')) };
    } catch {
      return { ok: false };
    }
  };

  router.post('/callback', raw, async (req, res) => {
    const receivedAt = now();
    const json = parseJson(req);
    if (!json.ok) return refuse(res, { status: 400, code: 'malformed_json', reason: 'body is not valid JSON', source: 'css', body: preview(req.body) });
    const envelope = cssEnvelopeSchema.safeParse(json.value);
    if (!envelope.success) {
      return refuse(res, { status: 400, code: 'invalid_callback', reason: 'event_type, t and sign are required', source: 'css', body: redact(json.value) });
    }
    const { event_type: type, t, sign } = envelope.data;
    const check = verifyCssSignature(deps.callbacks.key, t, sign, receivedAt);
    if (!check.ok) {
      return refuse(res, { status: 401, code: 'invalid_signature', reason: check.reason, source: 'css', eventType: type, body: redact(json.value) });
    }
    if (!isKnownEventType(type)) {
      return refuse(res, { status: 400, code: 'unknown_event_type', reason: `unknown event_type ${type}`, source: 'css', eventType: type, body: redact(json.value) });
    }
    const parsed = parseCssCallback(type, envelope.data, receivedAt);
    if (!parsed.ok) return refuse(res, { status: 400, code: 'invalid_callback', reason: parsed.reason, source: 'css', eventType: type, body: redact(json.value) });
    try {
      await publishCallback(deps.bus, parsed.event, { events: deps.events, log });
    } catch {
      return res.status(503).json({ error: { code: 'unavailable', message: 'event bus unavailable, retry later' } });
    }
    res.status(200).json({ code: 0 });
  });

  router.post('/callback/media', raw, async (req, res) => {
    const receivedAt = now();
    if (!Buffer.isBuffer(req.body)) {
      return refuse(res, { status: 400, code: 'invalid_callback', reason: 'raw body unavailable (router mounted after a JSON parser)', source: 'media-http' });
    }
    const signature = req.get(MEDIA_SIGNATURE_HEADER);
    const check = verifyMediaCallback(deps.callbacks.mediaKey, req.get(MEDIA_TIMESTAMP_HEADER), signature, req.body, receivedAt);
    if (!check.ok) return refuse(res, { status: 401, code: 'invalid_signature', reason: check.reason, source: 'media-http' });
    // Each signature once within the window: a captured request cannot be played again.
    let fresh: boolean;
    try {
      fresh = await deps.cache.setIfAbsent(`callback:media:sig:${signature}`, '1', MEDIA_CALLBACK_WINDOW_MS * 2);
    } catch {
      return res.status(503).json({ error: { code: 'unavailable', message: 'cache unavailable, retry later' } });
    }
    if (!fresh) return refuse(res, { status: 401, code: 'replayed', reason: 'replayed', source: 'media-http' });
    const json = parseJson(req);
    if (!json.ok) return refuse(res, { status: 400, code: 'malformed_json', reason: 'body is not valid JSON', source: 'media-http', body: preview(req.body) });
    const parsed = mediaCallbackSchema.safeParse(json.value);
    if (!parsed.success) {
      return refuse(res, { status: 400, code: 'invalid_callback', reason: `invalid media callback: ${parsed.error.issues[0]?.message ?? ''}`, source: 'media-http', body: redact(json.value) });
    }
    const mapped = mapMediaEvent(parsed.data.event, parsed.data.payload as never, 'media-http', receivedAt);
    try {
      if (mapped.kind === 'callback') await publishCallback(deps.bus, mapped.event, { events: deps.events, log });
      else if (mapped.kind === 'heartbeat') await deps.onHeartbeat?.(mapped.stats);
    } catch {
      return res.status(503).json({ error: { code: 'unavailable', message: 'event bus unavailable, retry later' } });
    }
    res.status(200).json({ code: 0 });
  });

  // Body parser failures (too large, bad encoding) on these two routes: answered and logged here.
  router.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    const e = err as { type?: string; status?: number };
    if (!req.path.startsWith('/callback') || typeof e.status !== 'number') return next(err);
    const source = req.path.startsWith('/callback/media') ? 'media-http' : 'css';
    if (e.type === 'entity.too.large') return refuse(res, { status: 413, code: 'payload_too_large', reason: 'body exceeds the callback size limit', source });
    return refuse(res, { status: e.status >= 400 && e.status < 500 ? e.status : 400, code: 'invalid_body', reason: e.type ?? 'unreadable body', source });
  });
  return router;
}

/** A refused body as stored: secrets removed, so live_events never holds a signature or txSecret. */
function redact(value: unknown): unknown {
  return value && typeof value === 'object' && !Array.isArray(value) ? withoutSecrets(value as Record<string, unknown>) : value;
}

function preview(body: unknown): string {
  return Buffer.isBuffer(body) ? body.subarray(0, 256).toString('utf8') : String(body).slice(0, 256);
}
