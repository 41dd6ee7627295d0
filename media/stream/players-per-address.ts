import type { IncomingMessage } from 'node:http';
import { SourceAddress } from '../../core/callbacks/source-address.js';
import { AddressMatcher } from '../../core/config/cidr.js';
import { addressKey } from '../../core/http/client-address.js';
import type { PlayProtocol } from '../../core/media/media-contract.js';
import type { TypedEmitter } from '../../core/events/typed-emitter.js';
import type { ViewerRegistryEvents } from './viewer-registry.js';

/** Where the counts come from: the registry's play.started / play.ended. */
type PlayEvents = Pick<TypedEmitter<ViewerRegistryEvents>, 'on'>;

/** The protocols this cap is checked for, and so counts (RTMP has its own; HLS requests are not players). */
const CAPPED: ReadonlySet<PlayProtocol> = new Set<PlayProtocol>(['http-flv', 'ws-flv']);

/** Never capped: a connection from this machine is a local proxy or a load test, not one viewer. */
const LOOPBACK = new AddressMatcher(['127.0.0.0/8', '::1/128']);

/**
 * HTTP-FLV and WS-FLV players of one stream from one client address, at most `cap` (0: no cap).
 * Each connection counts as a viewer of the room (its online count and discovery's hot ranking), so
 * without a cap one play token opened in a loop made a room look as watched as it liked. RTMP has its
 * own cap per address on all connections (ONAIR_RTMP_MAX_CONNECTIONS_PER_IP).
 *
 * The client is the TCP peer unless that is one of ONAIR_TRUSTED_PROXIES (the nginx edge), then the
 * address it names in X-Forwarded-For (SourceAddress); an IPv6 client counts by its /64 (addressKey),
 * as the control API's rate limits count it. Loopback peers are never capped.
 */
export class PlayersPerAddress {
  private readonly sources: SourceAddress;
  /** Players per "stream\nkey"; entries go when their count reaches 0. */
  private readonly counts = new Map<string, number>();

  constructor(private readonly cap: number, trustedProxies: readonly string[], events: PlayEvents) {
    this.sources = new SourceAddress(trustedProxies);
    // play.started is emitted inside ViewerRegistry.start(), so a check made just before start()
    // in the same turn sees every player admitted before it.
    events.on('play.started', (e) => CAPPED.has(e.protocol) && this.add(e.streamName, e.clientIp, 1));
    events.on('play.ended', (e) => CAPPED.has(e.protocol) && this.add(e.streamName, e.clientIp, -1));
  }

  /** The client's address for this request (the play hook's clientIp as well). */
  clientOf(req: IncomingMessage): string {
    return this.sources.of(req.socket.remoteAddress, req.headers['x-forwarded-for']);
  }

  /** The cap (0: none). */
  get limit(): number {
    return this.cap;
  }

  /** The key `clientIp` is counted under for caps of its own (WHEP offers connecting), or undefined when not capped (no cap, loopback). */
  addressOf(clientIp: string): string | undefined {
    return this.cap <= 0 || LOOPBACK.matches(clientIp) ? undefined : addressKey(clientIp);
  }

  /** True when `clientIp` already holds `cap` players of the stream. */
  full(streamName: string, clientIp: string): boolean {
    const key = this.keyOf(streamName, clientIp);
    return key !== undefined && (this.counts.get(key) ?? 0) >= this.cap;
  }

  /** Where a player of `streamName` from `clientIp` is counted; undefined when it is not (no cap, loopback). */
  private keyOf(streamName: string, clientIp: string): string | undefined {
    if (this.cap <= 0 || LOOPBACK.matches(clientIp)) return undefined;
    return `${streamName}\n${addressKey(clientIp)}`;
  }

  private add(streamName: string, clientIp: string, delta: 1 | -1): void {
    const key = this.keyOf(streamName, clientIp);
    if (key === undefined) return;
    const n = (this.counts.get(key) ?? 0) + delta;
    if (n > 0) this.counts.set(key, n);
    else this.counts.delete(key);
  }
}
