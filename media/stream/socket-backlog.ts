import { readFile } from 'node:fs/promises';
import { isIPv4, isIPv6, type Socket } from 'node:net';

/**
 * How many bytes the kernel still holds for a TCP connection: written by us, not yet acknowledged
 * by the peer (tx_queue in /proc/net/tcp, Linux only). Node exposes no SO_SNDBUF or SIOCOUTQ for
 * TCP, and the send buffer grows to megabytes (tcp_wmem): a viewer that stops reading looks healthy
 * to the process until that buffer is full, tens of seconds at a few Mb/s. This lets ViewerWatch see it.
 *
 * A connection is named by its peer address and port plus our local port: the key of its line in
 * /proc/net/tcp (IPv4 listeners) or /proc/net/tcp6 (IPv6 and dual-stack listeners).
 */
export interface SocketKey {
  key: string;
  v6: boolean;
}

const hex4 = (port: number) => port.toString(16).toUpperCase().padStart(4, '0');
const hex8le = (b: number[]) => b.slice().reverse().map((x) => x.toString(16).toUpperCase().padStart(2, '0')).join('');

/** The 16 bytes of an IPv6 address (with :: and an embedded IPv4 tail), or undefined. */
function ipv6Bytes(address: string): number[] | undefined {
  let addr = address.replace(/%.*$/, '');
  const lastColon = addr.lastIndexOf(':');
  if (addr.includes('.', lastColon)) {
    // ::ffff:127.0.0.1 -> ::ffff:7f00:1
    const v4 = addr.slice(lastColon + 1);
    if (!isIPv4(v4)) return undefined;
    const p = v4.split('.').map(Number) as [number, number, number, number];
    addr = `${addr.slice(0, lastColon + 1)}${((p[0] << 8) | p[1]).toString(16)}:${((p[2] << 8) | p[3]).toString(16)}`;
  }
  const halves = addr.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const groups = halves.length === 2 ? [...head, ...Array<string>(Math.max(0, 8 - head.length - tail.length)).fill('0'), ...tail] : head;
  if (groups.length !== 8) return undefined;
  const bytes: number[] = [];
  for (const g of groups) {
    const v = parseInt(g, 16);
    if (!(v >= 0 && v <= 0xffff)) return undefined;
    bytes.push(v >> 8, v & 0xff);
  }
  return bytes;
}

/** The /proc key of a connected socket, or undefined (not TCP over IP, already closed). */
export function socketKey(socket: Socket): SocketKey | undefined {
  const { remoteAddress, remotePort, localAddress, localPort } = socket;
  if (!remoteAddress || !remotePort || !localAddress || !localPort) return undefined;
  if (isIPv4(localAddress) && isIPv4(remoteAddress)) {
    return { key: `${hex8le(remoteAddress.split('.').map(Number))}:${hex4(remotePort)}:${hex4(localPort)}`, v6: false };
  }
  if (!isIPv6(remoteAddress)) return undefined;
  const b = ipv6Bytes(remoteAddress);
  if (!b) return undefined;
  const addr = [0, 4, 8, 12].map((i) => hex8le(b.slice(i, i + 4))).join('');
  return { key: `${addr}:${hex4(remotePort)}:${hex4(localPort)}`, v6: true };
}

/**
 * Reads the send queues of the wanted connections. Resolves undefined where /proc/net is not
 * readable (not Linux): the caller then stops asking.
 */
export async function readSendQueues(wanted: ReadonlyMap<string, unknown>, v6: boolean): Promise<Map<string, number> | undefined> {
  const out = new Map<string, number>();
  try {
    scan(await readFile('/proc/net/tcp', 'latin1'), wanted, out);
    if (v6) scan(await readFile('/proc/net/tcp6', 'latin1'), wanted, out);
  } catch {
    return undefined;
  }
  return out;
}

/** Lines look like `  12: 0100007F:1F90 0100007F:D2A4 01 00012345:00000000 ...`. */
function scan(text: string, wanted: ReadonlyMap<string, unknown>, out: Map<string, number>): void {
  const len = text.length;
  let i = text.indexOf('\n') + 1;
  while (i > 0 && i < len) {
    let end = text.indexOf('\n', i);
    if (end < 0) end = len;
    const local = text.indexOf(': ', i) + 2;
    const localEnd = text.indexOf(' ', local);
    const remEnd = text.indexOf(' ', localEnd + 1);
    if (local > 1 && localEnd > 0 && remEnd > 0 && remEnd < end) {
      const key = `${text.slice(localEnd + 1, remEnd)}${text.slice(text.lastIndexOf(':', localEnd), localEnd)}`;
      if (wanted.has(key)) out.set(key, parseInt(text.slice(remEnd + 4, remEnd + 12), 16));
    }
    i = end + 1;
  }
}
