import { InvalidStateError } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import { silentLogger } from '../logging/logger.js';
import { KeptRing } from './kept-ring.js';
import { LocalSubscriptions } from './local-subscriptions.js';
import type { JsonValue, PubSub, PubSubHandler, RecentOptions, RecentPage, Unsubscribe } from './pubsub.port.js';
import { assertChannel, encodeMessage, keptWire, parseKeptId, plainWire, resolveLimit } from './wire.js';

export interface MemoryPubSubOptions {
  /** The "server" several MemoryPubSub nodes share (tests: two nodes on one hub); a private one when absent. */
  hub?: MemoryPubSubHub;
  log?: Logger;
}

export interface MemoryPubSubHubOptions {
  /** Messages kept per channel by publishKept (default 1000). */
  historySize?: number;
  /** A channel's history is dropped after this long without a publishKept (default 1 h). */
  historyTtlMs?: number;
  now?: () => number;
}

/**
 * What Redis is to RedisPubSub: it knows which nodes receive which channel, delivers asynchronously
 * in publish order (one FIFO drained on a later macrotask, like a network hop), and keeps the
 * per-channel recent history.
 */
export class MemoryPubSubHub {
  readonly historySize: number;
  private readonly historyTtlMs: number;
  private readonly now: () => number;
  private readonly receivers = new Map<string, Set<MemoryPubSub>>();
  private readonly rings = new Map<string, KeptRing>();
  private queue: Array<{ node: MemoryPubSub; channel: string; wire: string }> = [];
  private scheduled = false;
  private lastSweep = 0;

  constructor(options: MemoryPubSubHubOptions = {}) {
    this.historySize = options.historySize ?? 1000;
    this.historyTtlMs = options.historyTtlMs ?? 3_600_000;
    this.now = options.now ?? Date.now;
    if (!Number.isInteger(this.historySize) || this.historySize < 1) throw new TypeError('historySize must be a positive integer');
  }

  /** How many nodes receive `channel` (Redis: PUBSUB NUMSUB counts subscriber connections, one per node). */
  numSub(channel: string): number {
    return this.receivers.get(channel)?.size ?? 0;
  }

  /** @internal */
  attach(node: MemoryPubSub, channel: string): void {
    let set = this.receivers.get(channel);
    if (!set) this.receivers.set(channel, (set = new Set()));
    set.add(node);
  }

  /** @internal */
  detach(node: MemoryPubSub, channel: string): void {
    const set = this.receivers.get(channel);
    if (!set) return;
    set.delete(node);
    if (set.size === 0) this.receivers.delete(channel);
  }

  /** @internal Targets are the nodes receiving the channel now, as Redis picks them when it runs PUBLISH. */
  publish(channel: string, wire: string): void {
    const set = this.receivers.get(channel);
    if (!set) return;
    for (const node of set) this.queue.push({ node, channel, wire });
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.drain());
    }
  }

  /** @internal Appends and publishes in one step, as RedisPubSub's script does. */
  publishKept(channel: string, json: string): string {
    const now = this.now();
    this.sweep(now);
    let ring = this.rings.get(channel);
    if (!ring) this.rings.set(channel, (ring = new KeptRing(this.historySize, now)));
    const id = ring.append(json, now);
    this.publish(channel, keptWire(id, json));
    return id;
  }

  /** @internal */
  recent(channel: string, after: string | undefined, limit: number): RecentPage {
    const ring = this.rings.get(channel);
    if (ring && this.now() - ring.touchedAt > this.historyTtlMs) this.rings.delete(channel);
    const live = this.rings.get(channel);
    if (live) return live.read(after, limit);
    if (after !== undefined) parseKeptId(after);
    // An expired (or never kept) history: a client resuming from an id has missed whatever came after it.
    return { entries: [], gap: after !== undefined };
  }

  private drain(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    for (const item of batch) item.node.receive(item.channel, item.wire);
  }

  /** Drops idle histories, at most once a minute, on the publishKept path (no timer to leak). */
  private sweep(now: number): void {
    if (now - this.lastSweep < 60_000) return;
    this.lastSweep = now;
    for (const [channel, ring] of this.rings) {
      if (now - ring.touchedAt > this.historyTtlMs) this.rings.delete(channel);
    }
  }
}

/**
 * The embedded pub/sub adapter (`npm start`, one process): an in-process emitter with the same
 * delivery rules as RedisPubSub, asynchronous delivery included, so code written against one
 * behaves the same on the other.
 */
export class MemoryPubSub implements PubSub {
  readonly hub: MemoryPubSubHub;
  private readonly subs: LocalSubscriptions;
  private closed = false;

  constructor(options: MemoryPubSubOptions = {}) {
    this.hub = options.hub ?? new MemoryPubSubHub();
    this.subs = new LocalSubscriptions({
      subscribe: async (channel) => {
        if (!this.closed) this.hub.attach(this, channel);
      },
      unsubscribe: async (channel) => this.hub.detach(this, channel),
    }, options.log ?? silentLogger());
  }

  async publish(channel: string, message: JsonValue): Promise<void> {
    this.assertOpen();
    assertChannel(channel);
    this.hub.publish(channel, plainWire(encodeMessage(message)));
  }

  async publishKept(channel: string, message: JsonValue): Promise<string> {
    this.assertOpen();
    assertChannel(channel);
    return this.hub.publishKept(channel, encodeMessage(message));
  }

  async subscribe(channel: string, handler: PubSubHandler): Promise<Unsubscribe> {
    this.assertOpen();
    assertChannel(channel);
    if (typeof handler !== 'function') throw new TypeError('subscribe needs a handler function');
    return this.subs.add(channel, handler);
  }

  async listened(channels: string[]): Promise<string[]> {
    this.assertOpen();
    for (const channel of channels) assertChannel(channel);
    return channels.filter((channel) => this.hub.numSub(channel) > 0);
  }

  async recent(channel: string, options: RecentOptions = {}): Promise<RecentPage> {
    this.assertOpen();
    assertChannel(channel);
    return this.hub.recent(channel, options.after, resolveLimit(options.limit, this.hub.historySize));
  }

  /** @internal Called by the hub on its delivery turn. */
  receive(channel: string, wire: string): void {
    if (!this.closed) this.subs.dispatch(channel, wire);
  }

  /** The in-process hub is never lost: the listener is never called. */
  onResubscribed(_listener: () => void): () => void {
    return () => undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const channel of [...this.subs.channelNames()]) this.hub.detach(this, channel);
    this.subs.clear();
  }

  private assertOpen(): void {
    if (this.closed) throw new InvalidStateError('pub/sub is closed');
  }
}
