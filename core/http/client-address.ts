import type { IncomingMessage } from 'node:http';
import type { SourceAddress } from '../callbacks/source-address.js';

/** The client's address as the rate limits and media's per-address caps see it, for a bare node:http request (express has req.ip). */
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
