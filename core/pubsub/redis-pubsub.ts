import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { InvalidStateError, UnavailableError } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import { silentLogger } from '../logging/logger.js';
import { LocalSubscriptions } from './local-subscriptions.js';
import type { JsonValue, KeptMessage, PubSub, PubSubHandler, RecentOptions, RecentPage, Unsubscribe } from './pubsub.port.js';
import { assertChannel, compareKeptIds, encodeMessage, parseKeptId, plainWire, resolveLimit } from './wire.js';

export interface RedisPubSubOptions {
  url: string;
  /** Prepended to every channel and key (default 'onair:'; tests use a unique one). */
  prefix?: string;
  /** Messages kept per channel by publishKept (default 1000). */
  historySize?: number;
  /** A channel's history expires after this long without a publishKept (default 1 h). */
  historyTtlMs?: number;
  log?: Logger;
}

/**
 * Appends to the channel's capped stream and publishes in one atomic step, so the order of ids is
 * the order subscribers see. Before the append pushes the oldest entry out (exact MAXLEN), its id
 * goes into the `trimmed` key: recent() compares a resuming client's id with it to report a gap.
 * A new (or expired and restarted) stream marks its first id the same way: anything older is gone.
 * KEYS: stream, trimmed. ARGV: redis channel, json, cap, ttl ms.
 */
const PUBLISH_KEPT = `
local cap = tonumber(ARGV[3])
local ttl = tonumber(ARGV[4])
local len = redis.call('XLEN', KEYS[1])
if len >= cap then
  local old = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', len - cap + 1)
  redis.call('SET', KEYS[2], old[#old][1], 'PX', ttl)
end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', cap, '*', 'm', ARGV[2])
if len == 0 then redis.call('SET', KEYS[2], id, 'PX', ttl) end
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
redis.call('PUBLISH', ARGV[1], 'k' .. id .. ' ' .. ARGV[2])
return id
`;

type KeptRedis = Redis & { onairPublishKept(stream: string, trimmed: string, channel: string, json: string, cap: number, ttl: number): Promise<string> };

/**
 * The cluster pub/sub adapter. Two connections per node:
 *   command     PUBLISH, the publish-kept script and history reads (auto-pipelined: one round trip
 *               for concurrent publishes, in order)
 *   subscriber  SUBSCRIBE/UNSUBSCRIBE one Redis channel per onair channel, so a node receives only
 *               the rooms it serves; ioredis re-subscribes them after a reconnect
 * Messages published while a node's subscriber connection is down are lost for that node (pub/sub
 * is not durable); a chat client resumes them from recent().
 */
export class RedisPubSub implements PubSub {
  readonly prefix: string;
  readonly historySize: number;
  private readonly historyTtlMs: number;
  private readonly cmd: KeptRedis;
  private readonly sub: Redis;
  private readonly subs: LocalSubscriptions;
  private readonly log: Logger;
  /** Channels whose UNSUBSCRIBE failed (connection down): retried when the subscriber connection is back. */
  private readonly staleChannels = new Set<string>();
  private closing: Promise<void> | undefined;
  private readonly resubscribed = new Set<() => void>();
  /** The subscriber connection was ready once: a later 'ready' is a reconnect. */
  private subReadyOnce = false;

  constructor(options: RedisPubSubOptions) {
    this.prefix = options.prefix ?? 'onair:';
    this.historySize = options.historySize ?? 1000;
    this.historyTtlMs = options.historyTtlMs ?? 3_600_000;
    if (!Number.isInteger(this.historySize) || this.historySize < 1) throw new TypeError('historySize must be a positive integer');
    this.log = options.log ?? silentLogger();
    // The connection names let operators (and the reconnect test) find a node's connections in CLIENT LIST.
    const name = `${this.prefix.replace(/[^\w:.-]/g, '_')}pubsub-${randomBytes(3).toString('hex')}`;
    this.cmd = new Redis(options.url, {
      connectionName: `${name}-cmd`, enableAutoPipelining: true, maxRetriesPerRequest: 1, connectTimeout: 5_000,
    }) as KeptRedis;
    this.cmd.defineCommand('onairPublishKept', { numberOfKeys: 2, lua: PUBLISH_KEPT });
    this.sub = new Redis(options.url, {
      connectionName: `${name}-sub`, maxRetriesPerRequest: 1, connectTimeout: 5_000, autoResubscribe: true,
    });
    this.cmd.on('error', (err: Error) => this.log.warn({ err: err.message }, 'redis pub/sub command connection error'));
    this.sub.on('error', (err: Error) => this.log.warn({ err: err.message }, 'redis pub/sub subscriber connection error'));
    this.sub.on('ready', () => {
      this.retryStaleUnsubscribes();
      if (!this.subReadyOnce) {
        this.subReadyOnce = true;
        return;
      }
      this.log.info({ channels: this.subs.size }, 'pub/sub subscriber reconnected: messages published meanwhile were lost for this node');
      // ioredis re-sends SUBSCRIBE for every channel before 'ready' listeners run; a PING on the same
      // connection is answered after those, so the listeners run once the channels receive again
      // (what they re-read then covers everything published before).
      this.sub.ping().then(() => {
        for (const listener of [...this.resubscribed]) {
          try {
            listener();
          } catch (err) {
            this.log.error({ err }, 'pub/sub resubscribed listener threw');
          }
        }
      }, (err: unknown) => this.log.warn({ err }, 'pub/sub subscriber ping after reconnect failed (the next reconnect tells the listeners)'));
    });
    const prefixLength = this.prefix.length;
    this.sub.on('message', (redisChannel: string, wire: string) => this.subs.dispatch(redisChannel.slice(prefixLength), wire));
    this.subs = new LocalSubscriptions({
      subscribe: async (channel) => {
        this.staleChannels.delete(channel);
        try {
          await this.sub.subscribe(this.prefix + channel);
        } catch (cause) {
          throw new UnavailableError('could not subscribe to the pub/sub channel', { cause });
        }
      },
      unsubscribe: async (channel) => {
        if (this.closing) return;
        try {
          await this.sub.unsubscribe(this.prefix + channel);
        } catch (err) {
          this.staleChannels.add(channel);
          this.log.warn({ err, channel }, 'pub/sub unsubscribe failed; retried on reconnect');
        }
      },
    }, this.log);
  }

  async publish(channel: string, message: JsonValue): Promise<void> {
    this.assertOpen();
    assertChannel(channel);
    const wire = plainWire(encodeMessage(message));
    try {
      await this.cmd.publish(this.prefix + channel, wire);
    } catch (cause) {
      throw new UnavailableError('could not publish', { cause });
    }
  }

  async listened(channels: string[]): Promise<string[]> {
    this.assertOpen();
    for (const channel of channels) assertChannel(channel);
    if (channels.length === 0) return [];
    let reply: Array<string | number>;
    try {
      reply = (await this.cmd.call('PUBSUB', 'NUMSUB', ...channels.map((c) => this.prefix + c))) as Array<string | number>;
    } catch (cause) {
      throw new UnavailableError('could not ask which channels are listened to', { cause });
    }
    // [channel, count, channel, count, ...] in the order asked.
    return channels.filter((_c, i) => Number(reply[i * 2 + 1]) > 0);
  }

  async publishKept(channel: string, message: JsonValue): Promise<string> {
    this.assertOpen();
    assertChannel(channel);
    const json = encodeMessage(message);
    const keys = this.historyKeys(channel);
    try {
      return await this.cmd.onairPublishKept(keys.stream, keys.trimmed, this.prefix + channel, json, this.historySize, this.historyTtlMs);
    } catch (cause) {
      throw new UnavailableError('could not publish', { cause });
    }
  }

  async subscribe(channel: string, handler: PubSubHandler): Promise<Unsubscribe> {
    this.assertOpen();
    assertChannel(channel);
    if (typeof handler !== 'function') throw new TypeError('subscribe needs a handler function');
    const unsubscribe = await this.subs.add(channel, handler);
    if (this.closing) throw new InvalidStateError('pub/sub is closed');
    return unsubscribe;
  }

  async recent(channel: string, options: RecentOptions = {}): Promise<RecentPage> {
    this.assertOpen();
    assertChannel(channel);
    const limit = resolveLimit(options.limit, this.historySize);
    const { after } = options;
    if (after !== undefined) parseKeptId(after);
    const keys = this.historyKeys(channel);
    let replies: Array<[Error | null, unknown]> | null;
    try {
      const tx = this.cmd.multi().exists(keys.stream).get(keys.trimmed);
      if (after === undefined) tx.xrevrange(keys.stream, '+', '-', 'COUNT', limit);
      else tx.xrange(keys.stream, `(${after}`, '+', 'COUNT', limit);
      replies = await tx.exec();
    } catch (cause) {
      throw new UnavailableError('could not read the recent history', { cause });
    }
    if (!replies) throw new UnavailableError('could not read the recent history', { cause: new Error('MULTI was discarded') });
    for (const [err] of replies) if (err) throw new UnavailableError('could not read the recent history', { cause: err });
    const exists = replies[0]![1] === 1;
    const trimmed = replies[1]![1] as string | null;
    const raw = replies[2]![1] as Array<[string, string[]]>;
    const entries: KeptMessage[] = raw.map(([id, fields]) => ({ id, message: JSON.parse(fields[1]!) as JsonValue }));
    if (after === undefined) return { entries: entries.reverse(), gap: false };
    // No history at all (expired) while the client holds an id: it missed whatever came after it.
    const gap = !exists || (trimmed !== null && compareKeptIds(after, trimmed) < 0);
    return { entries, gap };
  }

  onResubscribed(listener: () => void): () => void {
    this.resubscribed.add(listener);
    return () => void this.resubscribed.delete(listener);
  }

  /** Channels this node receives now (for metrics and tests). */
  get subscribedChannels(): number {
    return this.subs.size;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.subs.clear();
      await this.sub.quit().catch(() => this.sub.disconnect());
      await this.cmd.quit().catch(() => this.cmd.disconnect());
    })();
    return this.closing;
  }

  private historyKeys(channel: string) {
    // The hash tag keeps both keys of a channel in one Redis Cluster slot (the script touches both).
    const base = `${this.prefix}recent:{${channel}}`;
    return { stream: base, trimmed: `${base}:trimmed` };
  }

  private retryStaleUnsubscribes(): void {
    for (const channel of [...this.staleChannels]) {
      if (this.subs.has(channel)) continue;
      this.staleChannels.delete(channel);
      this.sub.unsubscribe(this.prefix + channel).catch((err: unknown) => {
        this.staleChannels.add(channel);
        this.log.warn({ err, channel }, 'pub/sub unsubscribe retry failed');
      });
    }
  }

  private assertOpen(): void {
    if (this.closing) throw new InvalidStateError('pub/sub is closed');
  }
}
