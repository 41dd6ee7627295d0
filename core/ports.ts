import { Registry, collectDefaultMetrics } from 'prom-client';
import type { OnairConfig } from './config/schema.js';
import type { Logger } from './logging/logger.js';
import { openDatabase, type Database } from './database/database.js';
import { createCache, RedisCache } from './cache/index.js';
import type { Cache } from './cache/cache.port.js';
import { createEventBus, RedisStreamEventBus } from './event-bus/index.js';
import type { EventBus } from './event-bus/event-bus.port.js';
import type { BusEvents } from './events/bus-events.js';
import { createPubSub } from './pubsub/index.js';
import type { PubSub } from './pubsub/pubsub.port.js';
import { createObjectStore } from './object-store/index.js';
import type { ObjectStore } from './object-store/object-store.port.js';
import { createRateLimits, RedisRateLimits, type RateLimits } from './rate-limit/index.js';

/** The ports a control process runs on, chosen by the configuration (embedded or cluster adapters). */
export interface Ports {
  db: Database;
  cache: Cache;
  bus: EventBus<BusEvents>;
  /** Fan-out per room across control nodes (in-process, or Redis Pub/Sub with ONAIR_REDIS_URL). */
  pubsub: PubSub;
  /** Recordings, posters, screenshots, covers (DATA_DIR/objects, or S3/MinIO with ONAIR_S3_URL). */
  objects: ObjectStore;
  /** Rate-limit counters: in Redis (shared by every control node) with ONAIR_REDIS_URL, in this process otherwise. */
  rateLimits: RateLimits;
  metrics: Registry;
  /** Closes bus, pub/sub, cache, object store and database, in that order (the bus may still write to the database). */
  close(): Promise<void>;
}

/**
 * Opens and migrates the database (SQLite file, or MySQL/MariaDB with ONAIR_DATABASE_URL), the
 * cache, the event bus and pub/sub (in-process and a database table, or Redis with
 * ONAIR_REDIS_URL), the object store (a folder, or S3/MinIO with ONAIR_S3_URL), and a metrics
 * registry with the process metrics. The composition roots (onair.ts, control/main.ts) share it.
 */
export async function openPorts(config: OnairConfig, log: Logger): Promise<Ports> {
  const db = await openDatabase({ url: config.database.url, dataDir: config.dataDir, log });
  await db.migrate();
  const commandTimeoutMs = config.redis.commandTimeout;
  const cache = createCache({ url: config.redis.url, prefix: config.redis.prefix, log, commandTimeoutMs });
  const bus = createEventBus<BusEvents>({ db, redisUrl: config.redis.url, prefix: config.redis.prefix, log, commandTimeoutMs });
  const pubsub = createPubSub({ redisUrl: config.redis.url, prefix: config.redis.prefix, historySize: config.chat.historySize, log: log.child({ mod: 'pubsub' }) });
  const objects = await createObjectStore(config, log.child({ mod: 'object-store' }));
  const rateLimits = createRateLimits({ redisUrl: config.redis.url, prefix: config.redis.prefix, log, commandTimeoutMs });
  // Redis clients queue commands only until their first connection (then they fail fast while
  // Redis is away): wait for it here, a bounded time; a Redis still down means 503s until it is up.
  if (cache instanceof RedisCache || bus instanceof RedisStreamEventBus) {
    const up = await Promise.all([
      cache instanceof RedisCache ? cache.ready() : true,
      bus instanceof RedisStreamEventBus ? bus.ready() : true,
      rateLimits instanceof RedisRateLimits ? rateLimits.ready() : true,
    ]);
    if (up.includes(false)) log.warn('redis is not reachable yet: requests that need it answer 503 until it is');
  }
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics });
  return {
    db, cache, bus, pubsub, objects, rateLimits, metrics,
    async close() {
      await rateLimits.close();
      await bus.close();
      await pubsub.close();
      await cache.close();
      await objects.close();
      await db.close();
    },
  };
}
