import { BlockList, isIP } from 'node:net';

/**
 * Address lists in configuration (ONAIR_CALLBACK_ALLOW, ONAIR_HOOK_ALLOW, ONAIR_TRUSTED_PROXIES):
 * comma- or space-separated CIDR blocks or single addresses, IPv4 and IPv6
 * (`10.0.0.0/8, 192.168.1.5, ::1, fd00::/8`). The config keeps the checked text; the services
 * that enforce a list build a matcher from it once (node:net BlockList).
 */

/** An address as the socket reports it, made comparable: `::ffff:10.0.0.1` is 10.0.0.1, zone ids and brackets dropped. */
export function normalizeAddress(address: string | undefined): { address: string; family: 'ipv4' | 'ipv6' } | null {
  if (!address) return null;
  let a = address.trim();
  if (a.startsWith('[') && a.endsWith(']')) a = a.slice(1, -1);
  const zone = a.indexOf('%');
  if (zone !== -1) a = a.slice(0, zone);
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(a);
  if (mapped) a = mapped[1]!;
  const v = isIP(a);
  if (v === 4) return { address: a, family: 'ipv4' };
  if (v === 6) return { address: a.toLowerCase(), family: 'ipv6' };
  return null;
}

/** Splits and checks a list; throws TypeError naming the first bad entry. Returns the entries. */
export function parseAddressList(text: string | string[]): string[] {
  const entries = (Array.isArray(text) ? text : text.split(/[\s,]+/)).map((e) => e.trim()).filter(Boolean);
  for (const entry of entries) toBlock(entry);
  return entries;
}

function toBlock(entry: string): { address: string; family: 'ipv4' | 'ipv6'; prefix: number } {
  const slash = entry.indexOf('/');
  const base = normalizeAddress(slash === -1 ? entry : entry.slice(0, slash));
  if (!base) throw new TypeError(`not an address or CIDR block: '${entry}'`);
  const max = base.family === 'ipv4' ? 32 : 128;
  if (slash === -1) return { ...base, prefix: max };
  const bits = entry.slice(slash + 1);
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) throw new TypeError(`bad prefix length in '${entry}' (0-${max})`);
  return { ...base, prefix: Number(bits) };
}

/** Answers "is this address in the list?"; an empty list matches nothing. */
export class AddressMatcher {
  private readonly list = new BlockList();
  readonly size: number;

  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const b = toBlock(entry);
      this.list.addSubnet(b.address, b.prefix, b.family);
    }
    this.size = entries.length;
  }

  matches(address: string | undefined): boolean {
    if (this.size === 0) return false;
    const a = normalizeAddress(address);
    return a !== null && this.list.check(a.address, a.family);
  }
}
