import {
  MEDIA_SIGNATURE_HEADER, MEDIA_TIMESTAMP_HEADER, signMediaCallback, verifyMediaCallback,
} from '../callbacks/media-callback-signature.js';

/**
 * Signatures on media's HTTP traffic when it runs as its own service. Event callbacks to control
 * use core/callbacks/media-callback-signature.ts as is (HMAC-SHA256 over `${timestamp}.${body}`,
 * X-Onair-Timestamp / X-Onair-Signature). Control's calls to media's control API use the same
 * scheme over `${METHOD} ${path}\n${body}`, so a signature cannot be replayed on another route.
 */
export const TIMESTAMP_HEADER = MEDIA_TIMESTAMP_HEADER;
export const SIGNATURE_HEADER = MEDIA_SIGNATURE_HEADER;

/** Headers for a request whose signed payload is `payload`. */
export function signedHeaders(key: string, payload: string, now = Date.now()): Record<string, string> {
  return signMediaCallback(key, payload, now);
}

/** Checks a signature in constant time and the timestamp against the replay window. */
export function verifyPayload(
  key: string, timestampHeader: string | undefined, signatureHeader: string | undefined, payload: string, now = Date.now(),
): boolean {
  return verifyMediaCallback(key, timestampHeader, signatureHeader, Buffer.from(payload), now).ok;
}

/** What media's control API signs: method, path and body. */
export function controlPayload(method: string, path: string, body: string): string {
  return `${method.toUpperCase()} ${path}\n${body}`;
}
