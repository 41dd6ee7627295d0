import { createHmac } from 'node:crypto';
import { safeEqual } from '../../core/tokens/compare.js';

/**
 * Playback URLs for objects in the local folder, which has no presigned URLs of its own: onair
 * signs `key` and an expiry with HMAC-SHA256 (a key derived from ONAIR_SECRET, so it signs nothing
 * else), and GET /api/v1/replay-media checks it before serving the bytes with Range. A <video>
 * element cannot send a bearer token; the short-lived signed URL is the auth check, as S3's
 * presigned URLs are.
 */
export class ReplayUrlSigner {
  private readonly key: Buffer;

  constructor(secret: string) {
    this.key = createHmac('sha256', secret).update('onair:replay-media:v1').digest();
  }

  sign(objectKey: string, expiresAt: number): string {
    return createHmac('sha256', this.key).update(`${objectKey}\n${expiresAt}`).digest('base64url');
  }

  /** `/api/v1/replay-media?key=...&exp=...&sig=...` (relative: the client resolves it against the API). */
  url(objectKey: string, expiresAt: number): string {
    const q = new URLSearchParams({ key: objectKey, exp: String(expiresAt), sig: this.sign(objectKey, expiresAt) });
    return `/api/v1/replay-media?${q.toString()}`;
  }

  /** True when the signature is ours and the URL has not expired. */
  verify(objectKey: string, expiresAt: number, sig: string, now = Date.now()): boolean {
    if (!Number.isSafeInteger(expiresAt) || expiresAt < now) return false;
    return safeEqual(this.sign(objectKey, expiresAt), sig);
  }
}
