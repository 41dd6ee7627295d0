import type { IncomingMessage } from 'node:http';
import { AddressMatcher } from '../../core/config/cidr.js';
import { SourceAddress } from '../../core/callbacks/source-address.js';

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

/** The client's address as the rate limits see it, for a bare node:http request (express has req.ip). */
export function clientAddress(req: IncomingMessage, sources: SourceAddress): string {
  return addressKey(sources.of(req.socket.remoteAddress, req.headers['x-forwarded-for']));
}

/**
 * The key one client is counted under: IPv4 as is (also when IPv4-mapped), IPv6 by its /64, since
 * one host or home gets a whole /64 and could otherwise take a fresh address per request.
 */
export function addressKey(address: string | undefined): string {
  if (!address) return 'unknown';
  if (address.startsWith('::ffff:') && address.includes('.')) return address.slice(7);
  if (!address.includes(':')) return address;
  const [head = '', tail = ''] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => (parseInt(g, 16) || 0).toString(16)).join(':')}::/64`;
}
