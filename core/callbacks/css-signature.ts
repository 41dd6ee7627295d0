import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Tencent Cloud CSS event notifications: `sign = MD5(key + t)`, with `t` the UNIX second at which
 * the notification expires (10 minutes after sending by default). The signature does not cover the
 * body: it proves the sender knows the key, and whoever captures one (t, sign) pair can attach it
 * to any body until `t`. So `t` is accepted only a short window ahead (config.callbacks.window),
 * and callbacks that carry only this signature are "unverified body" events downstream (see
 * body-signature.ts for the HMAC that covers the body, and the audit handler for what that changes).
 */
export function cssSign(key: string, t: number | string): string {
  return createHash('md5').update(`${key}${t}`).digest('hex');
}

export type CssSignatureCheck = { ok: true } | { ok: false; reason: 'missing_key' | 'expired' | 'expiry_too_far' | 'bad_signature' };

/** The default window: the vendor's 10 minutes plus one for clock skew (config.callbacks.window). */
export const CSS_DEFAULT_WINDOW_MS = 11 * 60_000;

/** `t` must lie between now and now + windowMs: a later expiry would keep a captured signature usable for longer. */
export function verifyCssSignature(key: string | undefined, t: number, sign: string, nowMs = Date.now(), windowMs = CSS_DEFAULT_WINDOW_MS): CssSignatureCheck {
  if (!key) return { ok: false, reason: 'missing_key' };
  const nowS = Math.floor(nowMs / 1000);
  if (t < nowS) return { ok: false, reason: 'expired' };
  if (t > nowS + Math.ceil(windowMs / 1000)) return { ok: false, reason: 'expiry_too_far' };
  const expected = Buffer.from(cssSign(key, t), 'utf8');
  const given = Buffer.from(sign.toLowerCase(), 'utf8');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad_signature' };
  return { ok: true };
}
