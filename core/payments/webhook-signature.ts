import { createHmac } from 'node:crypto';
import { safeEqual } from '../tokens/compare.js';
import { UnauthorizedError, ValidationError } from '../errors.js';

/**
 * Webhook signatures as the common providers make them (Stripe's `t=...,v1=...` scheme): the
 * header carries the send time in seconds and HMAC-SHA256(key, `${t}.${rawBody}`) in hex. The
 * timestamp is inside the signed text, so an old delivery cannot be given a fresh time; a window
 * bounds how long a captured delivery stays usable; the receiver refuses a signature it has seen.
 */
export const SIGNATURE_HEADER = 'x-onair-sandbox-signature';

export function signWebhook(key: string, rawBody: string | Buffer, timestampS: number): string {
  const mac = createHmac('sha256', key).update(`${timestampS}.`).update(rawBody).digest('hex');
  return `t=${timestampS},v1=${mac}`;
}

/** A webhook that is not genuine: bad or missing signature (401), outside the window or malformed (400). */
export class WebhookRefusedError extends ValidationError {
  constructor(code: 'webhook_expired' | 'webhook_malformed', message: string) {
    super(message, { code });
    this.name = 'WebhookRefusedError';
  }
}
export class WebhookSignatureError extends UnauthorizedError {
  constructor(message = 'webhook signature does not match') {
    super(message, { code: 'webhook_signature_invalid' });
    this.name = 'WebhookSignatureError';
  }
}

/**
 * Verifies `header` over `rawBody`; returns the signature (the delivery's identity). Throws
 * WebhookSignatureError or WebhookRefusedError (webhook_expired, webhook_malformed).
 */
export function verifyWebhookSignature(key: string, header: string | undefined, rawBody: Buffer, nowMs: number, toleranceMs: number): string {
  if (!header) throw new WebhookSignatureError('webhook signature header missing');
  const parts = new Map(header.split(',').map((p) => p.trim().split('=', 2) as [string, string]));
  const t = parts.get('t');
  const v1 = parts.get('v1');
  if (!t || !/^\d{1,12}$/.test(t) || !v1 || !/^[0-9a-f]{64}$/.test(v1)) throw new WebhookSignatureError('webhook signature header malformed');
  const expected = signWebhook(key, rawBody, Number(t)).split('v1=')[1]!;
  // The signature first: an attacker learns nothing about the window from a forged delivery.
  if (!safeEqual(expected, v1)) throw new WebhookSignatureError();
  const ageMs = nowMs - Number(t) * 1000;
  if (Math.abs(ageMs) > toleranceMs) {
    throw new WebhookRefusedError('webhook_expired', `webhook timestamp is ${Math.round(ageMs / 1000)} s ${ageMs > 0 ? 'old' : 'ahead'} (window ${Math.round(toleranceMs / 1000)} s)`);
  }
  return v1;
}
