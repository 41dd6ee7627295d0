import { randomBytes } from 'node:crypto';

/** Stream keys start with this, so a key pasted in the wrong place is recognisable (and never a play token). */
export const STREAM_KEY_PREFIX = 'sk_';

/** A new secret stream key: `sk_` + 32 random bytes in base64url (43 characters). */
export function newStreamKey(): string {
  return STREAM_KEY_PREFIX + randomBytes(32).toString('base64url');
}

/** True when the text has the shape of a stream key (cheap pre-check before a database lookup). */
export function looksLikeStreamKey(text: string): boolean {
  return /^sk_[A-Za-z0-9_-]{43}$/.test(text);
}
