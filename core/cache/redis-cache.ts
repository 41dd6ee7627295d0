import type { Redis } from 'ioredis';
import type { Cache } from './cache.port.js';
import { InvalidStateError, UnavailableError } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import { createRedisClient, redisReady } from '../redis/redis-client.js';

export interface RedisCacheOptions {
  url: string;
  /** Prepended to every key (tests use a unique prefix so runs never see each other's keys). */
  prefix?: string;
  log?: Logger;
  /** A command that takes longer fails (UnavailableError): ONAIR_REDIS_TIMEOUT. */
  commandTimeoutMs?: number;
}

/**
 * The cluster cache adapter over ioredis. Only the commands the Cache port needs. Driver failures
 * (connection refused, closed, timeouts) become UnavailableError (code `cache_unavailable`, 503 at
 * the HTTP edge) with the original as `cause`; while Redis is away they come at once or after the
 * command timeout, never later (core/redis/redis-client.ts). A WRONGTYPE reply becomes TypeError,
 * as in MemoryCache.
 */
export class RedisCache implements Cache {
  private readonly client: Redis;
  readonly prefix: string;
  private closed = false;

  constructor(options: RedisCacheOptions) {
    this.prefix = options.prefix ?? '';
    this.client = createRedisClient({
      url: options.url, name: 'cache', keyPrefix: this.prefix, log: options.log, commandTimeoutMs: options.commandTimeoutMs,
    });
  }

  /** Resolves once connected (or after `timeoutMs`: commands then fail fast until Redis is up). */
  ready(timeoutMs?: number): Promise<boolean> {
    return redisReady(this.client, timeoutMs);
  }

  private async run<T>(fn: (r: Redis) => Promise<T>): Promise<T> {
    if (this.closed) throw new InvalidStateError('cache is closed');
    try {
      return await fn(this.client);
    } catch (err) {
      if (err instanceof Error && err.name === 'ReplyError') {
        if (err.message.startsWith('WRONGTYPE')) throw new TypeError('WRONGTYPE: key holds another type', { cause: err });
        if (err.message.includes('not an integer')) throw new TypeError('value is not an integer', { cause: err });
      }
      throw new UnavailableError('the cache (Redis) is unavailable', { cause: err, code: 'cache_unavailable' });
    }
  }

  get(key: string) {
    return this.run((r) => r.get(key));
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    await this.run((r) => (ttlMs === undefined ? r.set(key, value) : r.set(key, value, 'PX', Math.max(1, Math.round(ttlMs)))));
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    return (await this.run((r) => r.set(key, value, 'PX', Math.max(1, Math.round(ttlMs)), 'NX'))) === 'OK';
  }

  async del(...keys: string[]): Promise<number> {
    if (keys.length === 0) return 0;
    return this.run((r) => r.del(...keys));
  }

  async exists(key: string): Promise<boolean> {
    return (await this.run((r) => r.exists(key))) === 1;
  }

  async expire(key: string, ttlMs: number): Promise<boolean> {
    return (await this.run((r) => r.pexpire(key, Math.max(1, Math.round(ttlMs))))) === 1;
  }

  ttl(key: string) {
    return this.run((r) => r.pttl(key));
  }

  async incrBy(key: string, by: number): Promise<number> {
    if (!Number.isInteger(by)) throw new TypeError('incrBy needs an integer');
    return this.run((r) => r.incrby(key, by));
  }

  async sAdd(key: string, ...members: string[]): Promise<number> {
    if (members.length === 0) return 0;
    return this.run((r) => r.sadd(key, ...members));
  }

  async sRem(key: string, ...members: string[]): Promise<number> {
    if (members.length === 0) return 0;
    return this.run((r) => r.srem(key, ...members));
  }

  sMembers(key: string) {
    return this.run((r) => r.smembers(key));
  }

  async sIsMember(key: string, member: string): Promise<boolean> {
    return (await this.run((r) => r.sismember(key, member))) === 1;
  }

  sCard(key: string) {
    return this.run((r) => r.scard(key));
  }

  async hSet(key: string, fields: Record<string, string>): Promise<void> {
    if (Object.keys(fields).length === 0) return;
    await this.run((r) => r.hset(key, fields));
  }

  hGetAll(key: string) {
    return this.run((r) => r.hgetall(key));
  }

  async hDel(key: string, ...fields: string[]): Promise<number> {
    if (fields.length === 0) return 0;
    return this.run((r) => r.hdel(key, ...fields));
  }

  async zIncrBy(key: string, by: number, member: string): Promise<number> {
    return Number(await this.run((r) => r.zincrby(key, by, member)));
  }

  async zAdd(key: string, entries: ReadonlyArray<{ member: string; score: number }>): Promise<number> {
    if (entries.length === 0) return 0;
    const args: Array<string | number> = [];
    for (const { member, score } of entries) args.push(score, member);
    return this.run((r) => r.zadd(key, ...args));
  }

  async zRangeByScore(key: string, min: number, max: number): Promise<string[]> {
    const bound = (n: number) => (n === Infinity ? '+inf' : n === -Infinity ? '-inf' : String(n));
    return this.run((r) => r.zrangebyscore(key, bound(min), bound(max)));
  }

  async zRevRange(key: string, start: number, stop: number): Promise<Array<{ member: string; score: number }>> {
    const flat = await this.run((r) => r.zrevrange(key, start, stop, 'WITHSCORES'));
    const out: Array<{ member: string; score: number }> = [];
    for (let i = 0; i + 1 < flat.length; i += 2) out.push({ member: flat[i]!, score: Number(flat[i + 1]) });
    return out;
  }

  async zRem(key: string, ...members: string[]): Promise<number> {
    if (members.length === 0) return 0;
    return this.run((r) => r.zrem(key, ...members));
  }

  /** Answers PONG when Redis is reachable (health checks). */
  async ping(): Promise<void> {
    await this.run((r) => r.ping());
  }

  /**
   * Deletes every key under this cache's prefix (SCAN, bounded batches). For tests: refuses to
   * run without a prefix so it can never wipe a shared database.
   */
  async deleteAllWithPrefix(): Promise<number> {
    if (!this.prefix) throw new TypeError('deleteAllWithPrefix needs a prefix');
    let cursor = '0';
    let deleted = 0;
    for (let round = 0; round < 100_000; round++) {
      // SCAN's MATCH is not prefixed by ioredis, and the keys it returns carry the prefix.
      const [next, keys] = await this.run((r) => r.scan(cursor, 'MATCH', `${this.prefix}*`, 'COUNT', 500));
      if (keys.length) deleted += await this.run((r) => r.del(...keys.map((k) => k.slice(this.prefix.length))));
      cursor = next;
      if (cursor === '0') break;
    }
    return deleted;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.client.quit().catch(() => this.client.disconnect());
  }
}
