import type { Logger } from '../logging/logger.js';
import type { PubSub } from './pubsub.port.js';
import { MemoryPubSub, MemoryPubSubHub } from './memory-pubsub.js';
import { RedisPubSub } from './redis-pubsub.js';

export type * from './pubsub.port.js';
export { MemoryPubSub, MemoryPubSubHub } from './memory-pubsub.js';
export { RedisPubSub } from './redis-pubsub.js';
export { roomChannel, compareKeptIds, MAX_MESSAGE_CHARS } from './wire.js';

export interface CreatePubSubOptions {
  /** ONAIR_REDIS_URL: Redis Pub/Sub when set, the in-process emitter otherwise. */
  redisUrl?: string;
  /** Prefix of Redis channels and keys (default 'onair:'). */
  prefix?: string;
  /** Messages kept per channel by publishKept (default 1000). */
  historySize?: number;
  /** A channel's kept messages expire after this long without a new one (default 1 h). */
  historyTtlMs?: number;
  log?: Logger;
}

/** Redis Pub/Sub when a Redis URL is configured (several control nodes), the in-process emitter otherwise. */
export function createPubSub(options: CreatePubSubOptions = {}): PubSub {
  const { redisUrl, ...rest } = options;
  if (redisUrl) {
    if (!/^rediss?:\/\//.test(redisUrl)) throw new TypeError('redis url must start with redis:// or rediss://');
    return new RedisPubSub({ url: redisUrl, ...rest });
  }
  return new MemoryPubSub({ hub: new MemoryPubSubHub({ historySize: rest.historySize, historyTtlMs: rest.historyTtlMs }), log: rest.log });
}
