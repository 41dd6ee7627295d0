import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Tencent Cloud CSS event notifications: `sign = MD5(key + t)`, with `t` the UNIX second at which
 * the notification expires (10 minutes after sending by default). The signature does not cover the
 * body: it proves the sender knows the key, within the window; handlers still deduplicate.
 */
export function cssSign(key: string, t: number | string): string {
  return createHash('md5').update(`${key}${t}`).digest('hex');
}

export type CssSignatureCheck = { ok: true } | { ok: false; reason: 'missing_key' | 'expired' | 'expiry_too_far' | 'bad_signature' };

/** Longest expiry we accept in the future: the vendor sends now + 10 min; a day leaves room for skewed clocks. */
const MAX_FUTURE_S = 24 * 3600;

export function verifyCssSignature(key: string | undefined, t: number, sign: string, nowMs = Date.now()): CssSignatureCheck {
  if (!key) return { ok: false, reason: 'missing_key' };
  const nowS = Math.floor(nowMs / 1000);
  if (t < nowS) return { ok: false, reason: 'expired' };
  if (t > nowS + MAX_FUTURE_S) return { ok: false, reason: 'expiry_too_far' };
  const expected = Buffer.from(cssSign(key, t), 'utf8');
  const given = Buffer.from(sign.toLowerCase(), 'utf8');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad_signature' };
  return { ok: true };
}
