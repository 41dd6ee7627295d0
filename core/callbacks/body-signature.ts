import { signMediaCallback, verifyMediaCallback, type MediaSignatureCheck } from './media-callback-signature.js';

/**
 * The body-covering signature the CSS-format receiver (POST /api/v1/callback) offers beside the
 * vendor's MD5(key + t), which covers no body. Same scheme as media's HTTP callbacks, keyed with
 * ONAIR_CALLBACK_KEY:
 *   X-Onair-Timestamp: UNIX milliseconds when sent
 *   X-Onair-Signature: v1=hex(HMAC-SHA256(key, `${timestamp}.${rawBody}`))
 * A callback signed this way is a "verified body" event: a captured signature cannot be moved to
 * another body, so its audit verdicts are applied in full. `t` and `sign` are then optional.
 * A replay of the same bytes is harmless: the event's identity is the same and handlers are
 * idempotent, so no replay cache is needed here.
 */
export function signCallbackBody(key: string, rawBody: string | Buffer, nowMs = Date.now()): Record<string, string> {
  return signMediaCallback(key, rawBody, nowMs);
}

export function verifyCallbackBody(
  key: string | undefined, timestamp: string | undefined, signature: string | undefined, rawBody: Buffer, nowMs: number, windowMs: number,
): MediaSignatureCheck {
  return verifyMediaCallback(key, timestamp, signature, rawBody, nowMs, windowMs);
}
