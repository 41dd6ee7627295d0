import type { Cache } from './cache.port.js';
import { MemoryCache } from './memory-cache.js';
import { RedisCache } from './redis-cache.js';
import type { Logger } from '../logging/logger.js';

export type { Cache } from './cache.port.js';
export { cacheKeys, cacheTtl } from './keys.js';
export { MemoryCache } from './memory-cache.js';
export { RedisCache } from './redis-cache.js';

/** Redis when a URL is given (ONAIR_REDIS_URL), the in-process cache otherwise. */
export function createCache(options: { url?: string; prefix?: string; log?: Logger; commandTimeoutMs?: number } = {}): Cache {
  if (options.url) {
    if (!/^rediss?:\/\//.test(options.url)) throw new TypeError('redis url must start with redis:// or rediss://');
    return new RedisCache({ url: options.url, prefix: options.prefix, log: options.log, commandTimeoutMs: options.commandTimeoutMs });
  }
  return new MemoryCache();
}
