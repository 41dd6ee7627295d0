import type { Database } from '../database/database.js';
import type { Logger } from '../logging/logger.js';
import type { EventBus, EventCatalog } from './event-bus.port.js';
import type { BusEvents } from '../events/bus-events.js';
import { DbEventBus } from './db-event-bus.js';
import { RedisStreamEventBus } from './redis-stream-event-bus.js';

export type * from './event-bus.port.js';
export { DbEventBus } from './db-event-bus.js';
export { RedisStreamEventBus } from './redis-stream-event-bus.js';

export interface CreateEventBusOptions {
  /** The application database (already migrated): the embedded bus lives in its tables. */
  db: Database;
  /** ONAIR_REDIS_URL: Redis Streams when set, the database table otherwise. */
  redisUrl?: string;
  /** Key prefix of the Redis adapter (default 'onair:'). */
  prefix?: string;
  log?: Logger;
  /** ONAIR_REDIS_TIMEOUT: deadline of one Redis command. */
  commandTimeoutMs?: number;
}

/** Redis Streams when a Redis URL is configured (cluster), the durable table in the database otherwise. */
export function createEventBus<E extends EventCatalog = BusEvents>(options: CreateEventBusOptions): EventBus<E> {
  if (options.redisUrl) {
    if (!/^rediss?:\/\//.test(options.redisUrl)) throw new TypeError('redis url must start with redis:// or rediss://');
    return new RedisStreamEventBus<E>({ url: options.redisUrl, prefix: options.prefix, log: options.log, commandTimeoutMs: options.commandTimeoutMs });
  }
  return new DbEventBus<E>(options.db, { log: options.log });
}
