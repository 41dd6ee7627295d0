import { AddressMatcher, normalizeAddress } from '../config/cidr.js';

/**
 * The address a callback or hook request came from, for the source allowlists.
 *
 * The TCP peer is the truth unless it is one of the operator's proxies (ONAIR_TRUSTED_PROXIES,
 * e.g. the nginx edge): only then is X-Forwarded-For read, from the right (the entry the nearest
 * proxy appended) leftwards, skipping further trusted proxies; the first other address is the
 * client. Entries left of it were written by the client and are never believed, so a forged
 * `X-Forwarded-For: 10.0.0.1` from the internet changes nothing.
 */
export class SourceAddress {
  private readonly proxies: AddressMatcher;

  constructor(trustedProxies: readonly string[]) {
    this.proxies = new AddressMatcher(trustedProxies);
  }

  /** The client address ('' when the peer is unknown; an unparsable forwarded entry is returned as is and matches no list). */
  of(peer: string | undefined, forwardedFor: string | string[] | undefined): string {
    const direct = normalizeAddress(peer)?.address ?? '';
    if (!direct || !this.proxies.matches(direct) || forwardedFor === undefined) return direct;
    const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor)
      .split(',').map((h) => h.trim()).filter(Boolean).slice(-32);
    let client = direct;
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = normalizeAddress(hops[i]);
      if (!hop) return hops[i]!.slice(0, 64);
      client = hop.address;
      if (!this.proxies.matches(client)) return client;
    }
    return client;
  }
}
