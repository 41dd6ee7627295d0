import type { Logger } from '../logging/logger.js';
import type { RateLimits } from './rate-limit.port.js';
import { MemoryRateLimits, RedisRateLimits } from './rate-limits.js';

export type * from './rate-limit.port.js';
export { MemoryRateLimits, RedisRateLimits } from './rate-limits.js';

/** Redis when ONAIR_REDIS_URL is set (limits shared by every control node), this process otherwise. */
export function createRateLimits(options: { redisUrl?: string; prefix?: string; log?: Logger; commandTimeoutMs?: number } = {}): RateLimits {
  if (options.redisUrl) return new RedisRateLimits({ url: options.redisUrl, prefix: options.prefix, log: options.log, commandTimeoutMs: options.commandTimeoutMs });
  return new MemoryRateLimits();
}
