import { createHash } from 'node:crypto';
import { safeEqual } from './compare.js';

/**
 * nginx `secure_link_md5` links (ngx_http_secure_link_module), for an nginx edge that checks
 * FLV/HLS requests without calling back. The matching nginx configuration is the module's documented one:
 *
 *   secure_link     $arg_md5,$arg_expires;
 *   secure_link_md5 "$secure_link_expires$uri$remote_addr secret";   # or "$secure_link_expires$uri secret"
 *
 * hash = base64url(md5(expires + uri + remote_addr + ' ' + secret)) without padding.
 * https://nginx.org/docs/http/ngx_http_secure_link_module.html (vector in secure-link.test.ts).
 */
export function secureLinkHash(input: { uri: string; expires: number; secret: string; remoteAddr?: string }): string {
  if (!input.uri.startsWith('/')) throw new TypeError('uri must be a path starting with /');
  return createHash('md5')
    .update(`${input.expires}${input.uri}${input.remoteAddr ?? ''} ${input.secret}`, 'utf8')
    .digest('base64url');
}

/** The signed path: `uri?md5=HASH&expires=EXPIRES`. */
export function secureLinkUrl(input: { uri: string; expires: number; secret: string; remoteAddr?: string }): string {
  return `${input.uri}?md5=${secureLinkHash(input)}&expires=${input.expires}`;
}

/** What nginx does: 'ok', or why not. */
export function verifySecureLink(
  input: { uri: string; md5: string; expires: string; secret: string; remoteAddr?: string },
  nowSec: number,
): 'ok' | 'bad_signature' | 'expired' {
  if (!/^\d{1,12}$/.test(input.expires)) return 'bad_signature';
  const expires = Number(input.expires);
  const expected = secureLinkHash({ uri: input.uri, expires, secret: input.secret, remoteAddr: input.remoteAddr });
  if (!safeEqual(input.md5, expected)) return 'bad_signature';
  return expires > nowSec ? 'ok' : 'expired';
}
