import type { Redis } from 'ioredis';
import { createRedisClient, redisReady } from '../redis/redis-client.js';
import type { Logger } from '../logging/logger.js';
import { silentLogger } from '../logging/logger.js';
import { InvalidStateError, UnavailableError } from '../errors.js';
import type {
  AnyDelivery, BusHandler, ConsumeOptions, Consumer, DeadLetter, EventBus, EventCatalog, PublishOptions,
} from './event-bus.port.js';
import { ConsumerLoop, resolveConsumeOptions } from './consumer-loop.js';
import { RedisStreamConsumerBackend, parseEntry, type StreamEntry } from './redis-stream-consumer.js';
import type { StreamKeys } from './redis-stream-keys.js';

export type { StreamKeys } from './redis-stream-keys.js';

export interface RedisStreamEventBusOptions {
  url: string;
  /** Prefix of every key the bus uses (tests use a unique one). */
  prefix?: string;
  log?: Logger;
  /** Deadline of a command (not of the consumer's blocking reads): ONAIR_REDIS_TIMEOUT. */
  commandTimeoutMs?: number;
}

/** The keys one bus uses; consumers add their group's retry zset and attempts hash. */
/**
 * The cluster event bus: one Redis stream, one consumer group per `group`.
 *   publish     XADD (ioredis auto-pipelining packs concurrent publishes into one round trip)
 *   consume     XREADGROUP ... BLOCK on a connection of its own, XACK after the handler succeeded
 *   retries     the entry stays in the group's pending list; a sorted set holds when to retry it,
 *               XCLAIM takes it back when due
 *   dead peers  XAUTOCLAIM hands over entries idle longer than the visibility timeout
 *   dead letters a hash (id -> JSON); replay re-appends the event addressed to its group only
 */
export class RedisStreamEventBus<E extends EventCatalog> implements EventBus<E> {
  readonly kind = 'redis' as const;
  private readonly client: Redis;
  private readonly keys: StreamKeys;
  private readonly consumers = new Set<Consumer>();
  private readonly log: Logger;
  private closed = false;

  constructor(private readonly options: RedisStreamEventBusOptions) {
    const prefix = options.prefix ?? 'onair:';
    this.keys = {
      stream: `${prefix}bus:events`,
      dead: `${prefix}bus:dead`,
      deadSeq: `${prefix}bus:dead:seq`,
      retry: (group) => `${prefix}bus:retry:${group}`,
      attempts: (group) => `${prefix}bus:attempts:${group}`,
    };
    this.log = options.log ?? silentLogger();
    // Fails fast while Redis is away: a publish (the callback receiver's 200) becomes a quick 503.
    this.client = createRedisClient({
      url: options.url, name: 'event-bus', log: this.log, enableAutoPipelining: true, commandTimeoutMs: options.commandTimeoutMs,
    });
  }

  /** Resolves once connected (or after `timeoutMs`: publishes then fail fast until Redis is up). */
  ready(timeoutMs?: number): Promise<boolean> {
    return redisReady(this.client, timeoutMs);
  }

  async publish<N extends keyof E & string>(name: N, payload: E[N], options: PublishOptions = {}): Promise<string> {
    if (this.closed) throw new InvalidStateError('event bus is closed');
    const fields = ['n', name, 'p', JSON.stringify(payload), 't', String(Date.now())];
    if (options.key !== undefined) fields.push('k', options.key);
    if (options.version !== undefined && options.version !== 1) fields.push('v', String(options.version));
    try {
      return (await this.client.xadd(this.keys.stream, '*', ...fields)) as string;
    } catch (cause) {
      throw new UnavailableError('could not append to the event bus (Redis is unavailable)', { cause, code: 'bus_unavailable' });
    }
  }

  consume(group: string, handler: BusHandler<E>, options?: ConsumeOptions): Consumer {
    if (this.closed) throw new InvalidStateError('event bus is closed');
    const resolved = resolveConsumeOptions(options);
    // The blocking reads wait for entries on purpose: no command deadline there, and (one command at
    // a time) the offline queue stays on so the loop simply resumes when Redis returns.
    const blocking = this.client.duplicate({ enableAutoPipelining: false, maxRetriesPerRequest: 1, commandTimeout: undefined, enableOfflineQueue: true });
    blocking.on('error', (err: Error) => this.log.debug({ err: err.message }, 'redis consumer connection error'));
    const backend = new RedisStreamConsumerBackend(this.client, blocking, this.keys, group, resolved.consumer, resolved.visibilityTimeoutMs);
    const loop = new ConsumerLoop(group, handler as unknown as BusHandler<EventCatalog>, backend, resolved,
      this.log.child({ mod: 'event-bus', group, consumer: resolved.consumer }), () => this.consumers.delete(loop));
    this.consumers.add(loop);
    return loop;
  }

  async listDead(options: { group?: string; limit?: number } = {}): Promise<DeadLetter[]> {
    const all = await this.client.hgetall(this.keys.dead);
    return Object.entries(all)
      .map(([id, json]) => ({ id, ...(JSON.parse(json) as Omit<DeadLetter, 'id'>) }))
      .filter((d) => !options.group || d.group === options.group)
      .sort((a, b) => Number(a.id) - Number(b.id))
      .slice(0, options.limit ?? 100);
  }

  async replayDead(id: string | 'all', options: { group?: string } = {}): Promise<number> {
    const letters = id === 'all' ? await this.listDead({ group: options.group, limit: Number.MAX_SAFE_INTEGER }) : await this.one(id);
    for (const d of letters) {
      // A new entry addressed to the dead letter's group: other groups acknowledge it unseen.
      const fields = ['n', d.name, 'p', JSON.stringify(d.payload), 't', String(Date.now()), 'g', d.group];
      if (d.key !== null) fields.push('k', d.key);
      const version = d.version;
      if (version !== undefined && version !== 1) fields.push('v', String(version));
      await this.client.xadd(this.keys.stream, '*', ...fields);
      await this.client.hdel(this.keys.dead, d.id);
    }
    return letters.length;
  }

  async backlog(group: string, options: { names?: string[] } = {}): Promise<number> {
    const names = options.names && options.names.length > 0 ? new Set(options.names) : undefined;
    const groups = (await this.client.xinfo('GROUPS', this.keys.stream).catch((err: unknown) => {
      if (err instanceof Error && /no such key/i.test(err.message)) return [];
      throw err;
    })) as unknown[][];
    const info = groups.map(fieldsOf).find((g) => g.name === group);
    if (!info) {
      // Not created yet: its first consumer starts from '0', every stored entry.
      return names ? this.countEntries('-', names, group) : Number(await this.client.xlen(this.keys.stream));
    }
    const pending = Number(info.pending ?? 0);
    // lag (Redis 7) is the number of entries not yet delivered to the group; null when Redis cannot tell (after deletions).
    if (!names && info.lag !== null && info.lag !== undefined) return pending + Number(info.lag);
    return pending + await this.countEntries(`(${String(info['last-delivered-id'] ?? '0-0')}`, names, group);
  }

  /** Counts stream entries after `start` (optionally of some names, and not addressed to another group), in pages. */
  private async countEntries(start: string, names: Set<string> | undefined, group: string): Promise<number> {
    let count = 0;
    let from = start;
    for (;;) {
      const page = (await this.client.xrange(this.keys.stream, from, '+', 'COUNT', 1000)) as Array<[string, string[]]>;
      for (const raw of page) {
        const e = parseEntry(raw);
        if ((!names || names.has(e.name)) && (e.target === null || e.target === group)) count++;
      }
      if (page.length < 1000) return count;
      from = `(${page[page.length - 1]![0]}`;
    }
  }

  async countDead(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    let cursor = '0';
    do {
      const [next, flat] = await this.client.hscan(this.keys.dead, cursor, 'COUNT', 500);
      for (let i = 1; i < flat.length; i += 2) {
        const group = String((JSON.parse(flat[i]!) as { group?: string }).group);
        counts[group] = (counts[group] ?? 0) + 1;
      }
      cursor = next;
    } while (cursor !== '0');
    return counts;
  }

  private async one(id: string): Promise<DeadLetter[]> {
    const json = await this.client.hget(this.keys.dead, id);
    return json ? [{ id, ...(JSON.parse(json) as Omit<DeadLetter, 'id'>) }] : [];
  }

  /** Reads stored entries (tests, the CLI): oldest first. */
  async readRange(count = 100): Promise<StreamEntry[]> {
    const raw = (await this.client.xrange(this.keys.stream, '-', '+', 'COUNT', count)) as Array<[string, string[]]>;
    return raw.map(parseEntry);
  }

  /** Deletes every key of this bus (tests). */
  async destroy(): Promise<void> {
    const groups = ((await this.client.xinfo('GROUPS', this.keys.stream).catch(() => [])) as unknown[][])
      .map((g) => String(g[1]));
    await this.client.del(this.keys.stream, this.keys.dead, this.keys.deadSeq,
      ...groups.flatMap((g) => [this.keys.retry(g), this.keys.attempts(g)]));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.consumers].map((c) => c.stop()));
    await this.client.quit().catch(() => this.client.disconnect());
  }
}

export type { AnyDelivery };

/** XINFO GROUPS answers each group as a flat [field, value, ...] list. */
function fieldsOf(flat: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = flat[i + 1];
  return out;
}
