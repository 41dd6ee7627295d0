import type { Logger } from '../logging/logger.js';
import { decodeWire } from './wire.js';
import type { Delivery, PubSubHandler } from './pubsub.port.js';

interface Registration {
  handler: PubSubHandler;
  active: boolean;
}

interface ChannelState {
  regs: Set<Registration>;
  /** The broker subscription of this channel: the first local subscriber starts it, later ones wait for it. */
  ready: Promise<void>;
}

export interface BrokerLink {
  /** Starts receiving `channel` on this node (Redis: SUBSCRIBE on the subscriber connection). */
  subscribe(channel: string): Promise<void>;
  /** Stops receiving it; called when the last local subscriber left. Never rejects (log instead). */
  unsubscribe(channel: string): Promise<void>;
}

/**
 * One node's subscriptions, shared by both adapters so they count and dispatch the same way:
 * N local subscribers of a channel cost one broker subscription, the last one to leave releases
 * it, and each message is decoded once per node and handed to every local handler. Broker
 * subscribe/unsubscribe calls are issued in the order the local count crosses 0 <-> 1, on one
 * connection, so the broker ends in the state the last transition asked for.
 */
export class LocalSubscriptions {
  private readonly channels = new Map<string, ChannelState>();

  constructor(private readonly broker: BrokerLink, private readonly log: Logger) {}

  /** Channels this node receives (at least one local subscriber). */
  get size(): number {
    return this.channels.size;
  }

  has(channel: string): boolean {
    return this.channels.has(channel);
  }

  channelNames(): IterableIterator<string> {
    return this.channels.keys();
  }

  async add(channel: string, handler: PubSubHandler): Promise<() => Promise<void>> {
    let state = this.channels.get(channel);
    if (!state) {
      state = { regs: new Set(), ready: this.broker.subscribe(channel) };
      // Nobody may be waiting on it when every subscriber already left: keep a rejection quiet.
      state.ready.catch(() => undefined);
      this.channels.set(channel, state);
    }
    const reg: Registration = { handler, active: true };
    state.regs.add(reg);
    const owner = state;
    try {
      await owner.ready;
    } catch (err) {
      await this.remove(channel, owner, reg);
      throw err;
    }
    return () => this.remove(channel, owner, reg);
  }

  private async remove(channel: string, state: ChannelState, reg: Registration): Promise<void> {
    if (!reg.active) return;
    reg.active = false;
    state.regs.delete(reg);
    if (state.regs.size > 0 || this.channels.get(channel) !== state) return;
    this.channels.delete(channel);
    await this.broker.unsubscribe(channel);
  }

  /** Hands a wire message to the channel's local handlers; a message for a channel nobody here wants is dropped. */
  dispatch(channel: string, wire: string): void {
    const state = this.channels.get(channel);
    if (!state || state.regs.size === 0) return;
    let delivery: Delivery;
    try {
      delivery = decodeWire(channel, wire);
    } catch (err) {
      this.log.warn({ err, channel }, 'dropped an undecodable pub/sub message');
      return;
    }
    // A handler that unsubscribes another one during this loop stops its delivery too (Set iteration skips deleted entries).
    for (const reg of state.regs) {
      if (reg.active) this.invoke(reg, delivery);
    }
  }

  private invoke(reg: Registration, delivery: Delivery): void {
    try {
      const result = reg.handler(delivery);
      if (result && typeof (result as Promise<void>).catch === 'function') {
        (result as Promise<void>).catch((err: unknown) => this.log.error({ err, channel: delivery.channel }, 'pub/sub handler failed'));
      }
    } catch (err) {
      this.log.error({ err, channel: delivery.channel }, 'pub/sub handler threw');
    }
  }

  /** Forgets every subscription without telling the broker (the adapter is closing its connection). */
  clear(): void {
    for (const state of this.channels.values()) {
      for (const reg of state.regs) reg.active = false;
      state.regs.clear();
    }
    this.channels.clear();
  }
}
