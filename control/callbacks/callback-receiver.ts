import type { IncomingMessage } from 'node:http';
import type { Registry } from 'prom-client';
import type { EventBus } from '../../core/event-bus/event-bus.port.js';
import type { BusEvents } from '../../core/events/bus-events.js';
import type { Cache } from '../../core/cache/cache.port.js';
import type { Logger } from '../../core/logging/logger.js';
import { AddressMatcher } from '../../core/config/cidr.js';
import { SourceAddress } from '../../core/callbacks/source-address.js';
import { CSS_DEFAULT_WINDOW_MS, verifyCssSignature } from '../../core/callbacks/css-signature.js';
import { verifyCallbackBody } from '../../core/callbacks/body-signature.js';
import {
  verifyMediaCallback, MEDIA_CALLBACK_WINDOW_MS, MEDIA_SIGNATURE_HEADER, MEDIA_TIMESTAMP_HEADER,
} from '../../core/callbacks/media-callback-signature.js';
import { cssEnvelopeSchema, isKnownEventType, parseCssCallback, withoutSecrets } from './callback.schema.js';
import { mediaCallbackSchema } from '../../core/media/media-callback.schema.js';
import type { MediaEventName, MediaEvents } from '../../core/media/media-contract.js';
import { mapMediaEvent } from './media-events.js';
import { EventIntake } from './event-intake.js';
import { domainEventProblem } from './domain-event-out.js';
import type { LiveEventLog } from './live-event-log.js';
import { RefusalLog, type RefusalSource } from './refusal-log.js';
import { OnairError } from '../../core/errors.js';
import { JsonNulError, JsonTooDeepError, parseJsonBody } from '../../core/http/json-depth.js';

export interface CallbackReceiverDeps {
  bus: EventBus<BusEvents>;
  /**
   * config.callbacks: key (CSS MD5 signatures and the body HMAC), mediaKey (HMAC of the engine's
   * callbacks), window (how far ahead `t` may be), allow (source networks of POST /callback).
   */
  callbacks: { key?: string; mediaKey?: string; window?: number; allow?: readonly string[] };
  /** config.http.trustedProxies: peers whose X-Forwarded-For is believed. */
  trustedProxies?: readonly string[];
  events: LiveEventLog;
  /** Remembers media callback signatures for the replay window (setIfAbsent with TTL). */
  cache: Cache;
  /** Where translated events go (default: one on `bus` and `events`, with no fan-out routes). */
  intake?: EventIntake;
  log: Logger;
  /** Where onair_callbacks_refused_total is registered. */
  metrics?: Registry;
  now?: () => number;
}

/** What the receiver needs of the HTTP request besides its body: the peer, and the headers it reads. */
export interface CallbackRequestMeta {
  peer?: string;
  forwardedFor?: string | string[];
  /** X-Onair-Timestamp / X-Onair-Signature: the body HMAC, when the sender signs the body. */
  timestamp?: string;
  signature?: string;
}

const header = (req: IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

/** The meta of a node:http (or express) request. */
export function callbackRequestMeta(req: IncomingMessage): CallbackRequestMeta {
  return {
    peer: req.socket.remoteAddress, forwardedFor: req.headers['x-forwarded-for'],
    timestamp: header(req, MEDIA_TIMESTAMP_HEADER), signature: header(req, MEDIA_SIGNATURE_HEADER),
  };
}

/** An answer: status and JSON body. */
export interface ReceiverAnswer { status: number; body: unknown }

const OK: ReceiverAnswer = { status: 200, body: { code: 0 } };
/** 503 naming what is down (`bus_unavailable`, `cache_unavailable`): the sender retries. */
const unavailable = (err: unknown, what: string): ReceiverAnswer => ({
  status: 503, body: { error: { code: err instanceof OnairError ? err.code : 'unavailable', message: `${what} unavailable, retry later` } },
});

/** Largest callback body accepted (vendor callbacks are a few hundred bytes). */
export const CALLBACK_BODY_LIMIT = 256 * 1024;

/**
 * The receiver's logic, free of any HTTP framework: verify, append to the bus, answer at once
 * (seed 000: 验签 -> 写入队列 -> 立即返回), the event on the bus being the domain event the
 * callback reports (callback.schema.ts and media-events.ts translate). Both the express router (callback.routes.ts) and the
 * raw node:http fast path (callback-fast-path.ts) call it. Refusals are answered
 * `{error:{code,message}}`, counted, and sampled into live_events (RefusalLog); the key is never logged.
 *
 * POST /callback checks, in order: the source network (config.callbacks.allow, when set), then
 * either onair's body HMAC (X-Onair-Signature; the event is then bodyVerified) or the vendor's
 * MD5(key + t) with `t` no further ahead than config.callbacks.window (bodyVerified false).
 */
export class CallbackReceiver {
  readonly log: Logger;
  private readonly now: () => number;
  private readonly refusals: RefusalLog;
  private readonly allow: AddressMatcher | null;
  private readonly sources: SourceAddress;
  private readonly windowMs: number;
  private readonly intake: EventIntake;

  constructor(private readonly deps: CallbackReceiverDeps) {
    this.log = deps.log.child({ mod: 'callbacks' });
    this.now = deps.now ?? Date.now;
    this.refusals = new RefusalLog(deps.events, this.log, deps.metrics, { now: this.now });
    this.allow = deps.callbacks.allow?.length ? new AddressMatcher(deps.callbacks.allow) : null;
    this.sources = new SourceAddress(deps.trustedProxies ?? []);
    this.windowMs = deps.callbacks.window ?? CSS_DEFAULT_WINDOW_MS;
    this.intake = deps.intake ?? new EventIntake({ bus: deps.bus, events: deps.events, log: this.log });
  }

  refuse(status: number, code: string, reason: string, source: RefusalSource, body?: unknown, eventType?: number | null): ReceiverAnswer {
    this.refusals.record({ source, status, code, reason, body, eventType });
    return { status, body: { error: { code, message: reason } } };
  }

  /** POST /callback: a Tencent Cloud CSS notification. `json` is the already-parsed body, if any. */
  async css(raw: Buffer | null, json?: unknown, meta: CallbackRequestMeta = {}): Promise<ReceiverAnswer> {
    const receivedAt = this.now();
    if (this.allow && !this.allow.matches(this.sources.of(meta.peer, meta.forwardedFor))) {
      return this.refuse(403, 'source_not_allowed', 'source address not allowed', 'css');
    }
    const bodySigned = meta.signature !== undefined || meta.timestamp !== undefined;
    if (bodySigned) {
      if (!raw) return this.refuse(400, 'invalid_callback', 'raw body unavailable for the body signature', 'css');
      const check = verifyCallbackBody(this.deps.callbacks.key, meta.timestamp, meta.signature, raw, receivedAt, this.windowMs);
      if (!check.ok) return this.refuse(401, 'invalid_signature', check.reason, 'css', preview(raw));
    }
    let value = json;
    if (raw) {
      try {
        value = parseJsonBody(raw);
      } catch (err) {
        return this.unparsable(err, 'css', raw);
      }
    }
    const envelope = cssEnvelopeSchema.safeParse(value);
    const { t, sign } = envelope.success ? envelope.data : {};
    if (!envelope.success || (!bodySigned && (t === undefined || sign === undefined))) {
      return this.refuse(400, 'invalid_callback', 'event_type, t and sign are required', 'css', redact(value));
    }
    const type = envelope.data.event_type;
    if (!bodySigned) {
      const check = verifyCssSignature(this.deps.callbacks.key, t!, sign!, receivedAt, this.windowMs);
      if (!check.ok) return this.refuse(401, 'invalid_signature', check.reason, 'css', redact(value), type);
    }
    if (!isKnownEventType(type)) return this.refuse(400, 'unknown_event_type', `unknown event_type ${type}`, 'css', redact(value), type);
    const parsed = parseCssCallback(type, envelope.data, receivedAt, bodySigned);
    if (!parsed.ok) return this.refuse(400, 'invalid_callback', parsed.reason, 'css', redact(value), type);
    const problem = domainEventProblem(parsed.out);
    if (problem) return this.refuse(400, 'invalid_callback', `invalid ${type} body: ${problem}`, 'css', redact(value), type);
    try {
      await this.intake.accept(parsed.out, 'css');
    } catch (err) {
      return unavailable(err, 'event bus');
    }
    return OK;
  }

  /** POST /callback/media: the engine's signed event (HMAC over `timestamp.body`, each signature once). */
  async media(raw: Buffer, timestamp: string | undefined, signature: string | undefined): Promise<ReceiverAnswer> {
    const receivedAt = this.now();
    const check = verifyMediaCallback(this.deps.callbacks.mediaKey, timestamp, signature, raw, receivedAt);
    if (!check.ok) return this.refuse(401, 'invalid_signature', check.reason, 'media-http');
    let fresh: boolean;
    try {
      fresh = await this.deps.cache.setIfAbsent(`callback:media:sig:${signature}`, '1', MEDIA_CALLBACK_WINDOW_MS * 2);
    } catch (err) {
      return unavailable(err, 'cache');
    }
    if (!fresh) return this.refuse(401, 'replayed', 'replayed', 'media-http');
    let value: unknown;
    try {
      value = parseJsonBody(raw);
    } catch (err) {
      return this.unparsable(err, 'media-http', raw);
    }
    const parsed = mediaCallbackSchema.safeParse(value);
    if (!parsed.success) return this.refuse(400, 'invalid_callback', `invalid media callback: ${parsed.error.issues[0]?.message ?? ''}`, 'media-http', redact(value));
    // The schema checked the fields the translation reads; the rest passes through as the engine sent it.
    const { event, payload } = parsed.data as { event: MediaEventName; payload: MediaEvents[MediaEventName] };
    const out = mapMediaEvent(event, payload);
    const problem = domainEventProblem(out);
    if (problem) return this.refuse(400, 'invalid_callback', `invalid media callback: ${problem}`, 'media-http', redact(value));
    try {
      await this.intake.accept(out, 'media-http');
    } catch (err) {
      return unavailable(err, 'event bus');
    }
    return OK;
  }

  /** A body JSON.parse refused, or one nested too deep to walk safely (core/http/json-depth.ts). */
  private unparsable(err: unknown, source: RefusalSource, raw: Buffer): ReceiverAnswer {
    if (err instanceof JsonTooDeepError) return this.refuse(400, 'json_too_deep', err.message, source, preview(raw));
    if (err instanceof JsonNulError) return this.refuse(400, 'nul_character', err.message, source, preview(raw));
    return this.refuse(400, 'malformed_json', 'body is not valid JSON', source, preview(raw));
  }

  tooLarge(source: RefusalSource): ReceiverAnswer {
    return this.refuse(413, 'payload_too_large', 'body exceeds the callback size limit', source);
  }
}

/** A refused body as stored: secrets removed, so live_events never holds a signature or txSecret. */
function redact(value: unknown): unknown {
  return value && typeof value === 'object' && !Array.isArray(value) ? withoutSecrets(value as Record<string, unknown>) : value;
}

/** The start of an unparsable body, with anything that looks like a sign or stream_param blanked. */
function preview(body: Buffer): string {
  return body.subarray(0, 256).toString('utf8').replace(/"(sign|stream_param)"\s*:\s*"[^"]*"?/g, '"$1":"[redacted]"');
}
