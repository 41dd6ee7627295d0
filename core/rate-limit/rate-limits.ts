import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Logger } from '../logging/logger.js';
import { createRedisClient, redisReady } from '../redis/redis-client.js';
import type { RateCounter, RateCounterOptions, RateDecision, RateLimits } from './rate-limit.port.js';

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

function decision(res: RateLimiterRes | null, points: number, allowed: boolean): RateDecision {
  if (!res) return { allowed: true, consumed: 0, retryAfterMs: 0 };
  return { allowed, consumed: res.consumedPoints, retryAfterMs: Math.max(0, res.msBeforeNext) };
}

/** A RateCounter over one rate-limiter-flexible limiter (memory or Redis). */
class FlexibleCounter implements RateCounter {
  constructor(private readonly limiter: RateLimiterAbstract, private readonly points: number) {}

  async consume(key: string, points = 1): Promise<RateDecision> {
    try {
      return decision(await this.limiter.consume(key, points), this.points, true);
    } catch (res) {
      // rate-limiter-flexible rejects with the RateLimiterRes when over the limit; anything else is a store failure.
      if (res instanceof RateLimiterRes) return decision(res, this.points, false);
      throw res;
    }
  }

  async peek(key: string): Promise<RateDecision> {
    const res = await this.limiter.get(key);
    return decision(res, this.points, !res || res.consumedPoints <= this.points);
  }

  async block(key: string, ms: number): Promise<void> {
    await this.limiter.block(key, seconds(ms));
  }

  async reset(key: string): Promise<void> {
    await this.limiter.delete(key);
  }
}

/** In this process only: `npm start`, or control without Redis. */
export class MemoryRateLimits implements RateLimits {
  readonly kind = 'memory' as const;

  counter(name: string, o: RateCounterOptions): RateCounter {
    return new FlexibleCounter(new RateLimiterMemory({ keyPrefix: name, points: o.points, duration: seconds(o.durationMs) }), o.points);
  }

  async close(): Promise<void> {}
}

export interface RedisRateLimitsOptions {
  url: string;
  /** Prefix of every key (default 'onair:'); control nodes that must share limits use the same one. */
  prefix?: string;
  log?: Logger;
  commandTimeoutMs?: number;
}

/**
 * Shared by every control node on the same Redis: a password guessed on one node counts on all.
 * While Redis is away each counter falls back to an in-process one (rate-limiter-flexible's
 * insurance limiter), so limits degrade to per node rather than to none, and requests never wait
 * for Redis (the client fails fast: core/redis/redis-client.ts).
 */
export class RedisRateLimits implements RateLimits {
  readonly kind = 'redis' as const;
  private readonly client: Redis;
  private readonly prefix: string;

  constructor(options: RedisRateLimitsOptions) {
    this.prefix = `${options.prefix ?? 'onair:'}rl:`;
    this.client = createRedisClient({ url: options.url, name: 'rate-limits', log: options.log, commandTimeoutMs: options.commandTimeoutMs });
  }

  ready(timeoutMs?: number): Promise<boolean> {
    return redisReady(this.client, timeoutMs);
  }

  counter(name: string, o: RateCounterOptions): RateCounter {
    const duration = seconds(o.durationMs);
    const limiter = new RateLimiterRedis({
      storeClient: this.client,
      keyPrefix: `${this.prefix}${name}`,
      points: o.points,
      duration,
      rejectIfRedisNotReady: true,
      insuranceLimiter: new RateLimiterMemory({ keyPrefix: `${name}:insurance`, points: o.points, duration }),
    });
    return new FlexibleCounter(limiter, o.points);
  }

  async close(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect());
  }
}
