import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signed HTTP callbacks from the media engine to control (when media runs as its own service):
 *   X-Onair-Timestamp: UNIX milliseconds when sent
 *   X-Onair-Signature: v1=hex(HMAC-SHA256(mediaKey, `${timestamp}.${rawBody}`))
 * The receiver accepts a timestamp within ±5 min and remembers each signature for that window, so a
 * captured request cannot be replayed. Media imports signMediaCallback; control verifies.
 */
export const MEDIA_SIGNATURE_HEADER = 'x-onair-signature';
export const MEDIA_TIMESTAMP_HEADER = 'x-onair-timestamp';
export const MEDIA_CALLBACK_WINDOW_MS = 5 * 60_000;

export function mediaCallbackSignature(key: string, timestamp: number | string, rawBody: string | Buffer): string {
  return `v1=${createHmac('sha256', key).update(`${timestamp}.`).update(rawBody).digest('hex')}`;
}

/** Headers to send with `rawBody` (exactly the bytes posted). */
export function signMediaCallback(key: string, rawBody: string | Buffer, nowMs = Date.now()): Record<string, string> {
  return {
    [MEDIA_TIMESTAMP_HEADER]: String(nowMs),
    [MEDIA_SIGNATURE_HEADER]: mediaCallbackSignature(key, nowMs, rawBody),
  };
}

export type MediaSignatureCheck = { ok: true } | { ok: false; reason: 'missing_key' | 'missing_headers' | 'stale_timestamp' | 'bad_signature' };

/** Checks signature and window; replay (a signature seen before) is the caller's check, with its cache. */
export function verifyMediaCallback(
  key: string | undefined, timestamp: string | undefined, signature: string | undefined, rawBody: Buffer, nowMs = Date.now(),
  windowMs = MEDIA_CALLBACK_WINDOW_MS,
): MediaSignatureCheck {
  if (!key) return { ok: false, reason: 'missing_key' };
  if (!timestamp || !signature || !/^\d{1,15}$/.test(timestamp)) return { ok: false, reason: 'missing_headers' };
  if (Math.abs(nowMs - Number(timestamp)) > windowMs) return { ok: false, reason: 'stale_timestamp' };
  const expected = Buffer.from(mediaCallbackSignature(key, timestamp, rawBody));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad_signature' };
  return { ok: true };
}
