import { createHash, createHmac } from 'node:crypto';
import { safeEqual } from './compare.js';

/**
 * Tencent Cloud CSS-style push/play URL signing (防盗链):
 *   txTime = expiry as hexadecimal unix seconds, txSecret = MD5(KEY + StreamName + txTime)
 * Documented at https://intl.cloud.tencent.com/document/product/267/31560 (see tx-secret.test.ts).
 * An edge or CDN holding KEY can check a URL without calling back.
 */
export function txTimeHex(unixSeconds: number): string {
  if (!Number.isSafeInteger(unixSeconds) || unixSeconds < 0) throw new TypeError('unixSeconds must be a non-negative integer');
  return unixSeconds.toString(16).toUpperCase();
}

export function signTxSecret(key: string, streamName: string, txTime: string): string {
  return createHash('md5').update(key + streamName + txTime, 'utf8').digest('hex');
}

export type TxSecretCheck = { ok: true; expiresAt: number } | { ok: false; reason: 'malformed' | 'bad_signature' | 'expired' };

/** Verifies txSecret/txTime for streamName (hex either case, compared in constant time). */
export function verifyTxSecret(
  key: string,
  streamName: string,
  query: { txSecret?: string; txTime?: string },
  nowSec: number,
): TxSecretCheck {
  const { txSecret, txTime } = query;
  if (!txSecret || !txTime || !/^[0-9a-fA-F]{1,12}$/.test(txTime) || !/^[0-9a-fA-F]{32}$/.test(txSecret)) {
    return { ok: false, reason: 'malformed' };
  }
  if (!safeEqual(txSecret.toLowerCase(), signTxSecret(key, streamName, txTime))) return { ok: false, reason: 'bad_signature' };
  const expiresAt = parseInt(txTime, 16);
  if (expiresAt <= nowSec) return { ok: false, reason: 'expired' };
  return { ok: true, expiresAt };
}

/**
 * The KEY our own push URLs are signed with: derived from the server secret under a 'push' label,
 * so it is never the key of play tokens or JWTs. Put this value in an edge's config to let it verify.
 */
export function pushSigningKey(secret: string): string {
  return createHmac('sha256', secret).update('onair|push-url-key').digest('hex').slice(0, 32);
}
