import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signatures on media's HTTP traffic when it runs as its own service (event callbacks to control,
 * control's calls to media's control API): hex HMAC-SHA256 over `${timestamp}.${payload}` with
 * config.callbacks.mediaKey, sent as X-Onair-Timestamp (Unix seconds) and X-Onair-Signature.
 */
export const TIMESTAMP_HEADER = 'x-onair-timestamp';
export const SIGNATURE_HEADER = 'x-onair-signature';
/** A signed request older or newer than this is refused (replay window). */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

export function signPayload(key: string, timestamp: number, payload: string): string {
  return createHmac('sha256', key).update(`${timestamp}.${payload}`).digest('hex');
}

/** Headers for a signed request whose signed payload is `payload`. */
export function signedHeaders(key: string, payload: string, now = Date.now()): Record<string, string> {
  const timestamp = Math.floor(now / 1000);
  return { 'X-Onair-Timestamp': String(timestamp), 'X-Onair-Signature': signPayload(key, timestamp, payload) };
}

/** Checks a signature in constant time and the timestamp against the replay window. */
export function verifyPayload(
  key: string, timestampHeader: string | undefined, signatureHeader: string | undefined, payload: string, now = Date.now(),
): boolean {
  if (!timestampHeader || !signatureHeader || !/^\d{1,12}$/.test(timestampHeader) || !/^[0-9a-f]{64}$/.test(signatureHeader)) return false;
  const timestamp = Number(timestampHeader);
  if (Math.abs(now / 1000 - timestamp) > SIGNATURE_TOLERANCE_SECONDS) return false;
  const expected = Buffer.from(signPayload(key, timestamp, payload), 'hex');
  return timingSafeEqual(expected, Buffer.from(signatureHeader, 'hex'));
}

/** What media's control API signs: method, path and body, so a signature cannot be replayed elsewhere. */
export function controlPayload(method: string, path: string, body: string): string {
  return `${method.toUpperCase()} ${path}\n${body}`;
}
