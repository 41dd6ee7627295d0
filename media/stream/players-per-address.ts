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
 * The client of a request and the address it is counted under: the TCP peer unless that is one of
 * ONAIR_TRUSTED_PROXIES (the nginx edge), then the address it names in X-Forwarded-For
 * (SourceAddress); an IPv6 client counts by its /64 (addressKey), as the control API's rate limits
 * count it. Loopback is never capped. `limit` is ONAIR_MEDIA_PLAYERS_PER_ADDRESS (0: no cap).
 * The HLS plugin, which has no viewer registry, uses this alone.
 */
export class ClientAddresses {
  private readonly sources: SourceAddress;

  constructor(readonly limit: number, trustedProxies: readonly string[]) {
    this.sources = new SourceAddress(trustedProxies);
  }

  /** The client's address for this request (the play or publish hook's clientIp as well). */
  clientOf(req: IncomingMessage): string {
    return this.sources.of(req.socket.remoteAddress, req.headers['x-forwarded-for']);
  }

  /** The key `clientIp` is counted under, or undefined when it is not capped (no cap, loopback). */
  addressOf(clientIp: string): string | undefined {
    return this.limit <= 0 || LOOPBACK.matches(clientIp) ? undefined : addressKey(clientIp);
  }
}

/**
 * Things one client address holds at once, at most `addresses.limit`, each in a scope (a stream
 * name, or '' for the whole server): WHEP offers and WHIP publishers connecting, HLS sessions of a
 * stream. Before, one client took a server-wide pool (256 WHEP offers, 64 WHIP publishers) with
 * offers that never connect and locked everyone else out of WebRTC.
 */
export class AddressSlots {
  /** Held per "scope\naddress"; entries go when their count reaches 0. */
  private readonly counts = new Map<string, number>();

  constructor(private readonly addresses: Pick<ClientAddresses, 'limit' | 'addressOf'>) {}

  /** True when `clientIp` already holds `limit` slots in `scope`. */
  full(clientIp: string, scope = ''): boolean {
    const key = this.keyOf(clientIp, scope);
    return key !== undefined && (this.counts.get(key) ?? 0) >= this.addresses.limit;
  }

  /** Takes a slot (check full() first); the function returned gives it back, once. */
  take(clientIp: string, scope = ''): () => void {
    const key = this.keyOf(clientIp, scope);
    if (key === undefined) return () => {};
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      const n = (this.counts.get(key) ?? 1) - 1;
      if (n > 0) this.counts.set(key, n);
      else this.counts.delete(key);
    };
  }

  /** Slots held in all (tests). */
  get size(): number {
    let n = 0;
    for (const c of this.counts.values()) n += c;
    return n;
  }

  private keyOf(clientIp: string, scope: string): string | undefined {
    const address = this.addresses.addressOf(clientIp);
    return address === undefined ? undefined : `${scope}\n${address}`;
  }
}

/**
 * HTTP-FLV and WS-FLV players of one stream from one client address, at most `cap` (0: no cap).
 * Each connection counts as a viewer of the room (its online count and discovery's hot ranking), so
 * without a cap one play token opened in a loop made a room look as watched as it liked. RTMP has its
 * own cap per address on all connections (ONAIR_RTMP_MAX_CONNECTIONS_PER_IP); WHEP and WHIP cap the
 * offers an address has connecting and HLS the sessions it has (AddressSlots).
 *
 * The client and its address: ClientAddresses.
 */
export class PlayersPerAddress extends ClientAddresses {
  private readonly players: AddressSlots;
  /** The release of each player counted, by viewer id. */
  private readonly held = new Map<string, () => void>();

  constructor(cap: number, trustedProxies: readonly string[], events: PlayEvents) {
    super(cap, trustedProxies);
    this.players = new AddressSlots(this);
    // play.started is emitted inside ViewerRegistry.start(), so a check made just before start()
    // in the same turn sees every player admitted before it.
    events.on('play.started', (e) => {
      if (!CAPPED.has(e.protocol)) return;
      this.held.get(e.viewerId)?.(); // ids are unique among live viewers; never leak a place if one came back
      this.held.set(e.viewerId, this.players.take(e.clientIp, e.streamName));
    });
    events.on('play.ended', (e) => {
      if (!CAPPED.has(e.protocol)) return;
      this.held.get(e.viewerId)?.();
      this.held.delete(e.viewerId);
    });
  }

  /** True when `clientIp` already holds `cap` players of the stream. */
  full(streamName: string, clientIp: string): boolean {
    return this.players.full(clientIp, streamName);
  }
}
