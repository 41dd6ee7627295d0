import { AddressMatcher } from '../../core/config/cidr.js';

/**
 * express' 'trust proxy' from ONAIR_TRUSTED_PROXIES (a CIDR list): req.ip is then the client the
 * trusted proxies name in X-Forwarded-For, read from the right as SourceAddress does; with no list,
 * nobody is trusted and req.ip is the TCP peer.
 */
export function trustProxyFn(trustedProxies: readonly string[]): (address: string) => boolean {
  if (trustedProxies.length === 0) return () => false;
  const matcher = new AddressMatcher(trustedProxies);
  return (address) => matcher.matches(address);
}
