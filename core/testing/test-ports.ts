import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Database } from '../database/database.js';
import type { Cache } from '../cache/cache.port.js';
import { MemoryCache } from '../cache/memory-cache.js';
import { RedisCache } from '../cache/redis-cache.js';
import { loadConfig } from '../config/load.js';
import type { OnairConfig } from '../config/schema.js';
import { MemoryRateLimits, RedisRateLimits, type RateLimits } from '../rate-limit/index.js';

/**
 * Real ports for domain and API tests: the embedded set (SQLite :memory: + MemoryCache) always,
 * and MariaDB + Redis when ONAIR_TEST_DATABASE_URL / ONAIR_TEST_REDIS_URL name them (CI sets
 * both; under ONAIR_STRICT=1 they are required). Each make() is isolated: a fresh database
 * `onair_t_<random>` dropped on close, and a Redis key prefix whose keys are deleted on close.
 *
 *   for (const set of testAdapterSets()) describe(`rooms on ${set.name}`, () => { ... set.make() ... });
 *
 * Other ports (event bus, object store) are added by wrapping make() in their own helper file.
 */
export interface TestPorts {
  db: Database;
  cache: Cache;
  /** Rate-limit counters: in memory, or in Redis under the cache's prefix. */
  rateLimits: RateLimits;
  config: OnairConfig;
  /** The Redis server and key prefix of the real set (another control node shares state through them). */
  redis?: { url: string; prefix: string };
  close(): Promise<void>;
}

/** Sections of the config to override, as loadConfig takes them (e.g. { live: { reconnectGrace: 200 } }). */
export type ConfigOverrides = Record<string, unknown>;

export interface TestAdapterSet {
  name: string;
  make(overrides?: ConfigOverrides): Promise<TestPorts>;
}

/**
 * A test configuration: fixed secret, temporary data dir, no environment leaking in. Rate limits
 * are off (suites register and log in many users from one address); a test of the limits turns
 * them on by overriding the `rateLimit` section (its `enabled` defaults to true there).
 */
export function testConfig(overrides: ConfigOverrides = {}): OnairConfig {
  return loadConfig({}, {
    secret: 'test-secret-0123456789abcdef',
    dataDir: join(tmpdir(), `onair-test-${randomBytes(4).toString('hex')}`),
    logLevel: 'silent',
    rateLimit: { enabled: false },
    ...overrides,
  });
}

const suffix = () => randomBytes(6).toString('hex');

async function embedded(overrides?: ConfigOverrides): Promise<TestPorts> {
  const config = testConfig(overrides);
  const db = await openDatabase({ url: 'sqlite::memory:', dataDir: config.dataDir });
  await db.migrate();
  const cache = new MemoryCache();
  return {
    db, cache, config, rateLimits: new MemoryRateLimits(),
    async close() {
      await cache.close();
      await db.close();
    },
  };
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

async function mariadbRedis(dbUrl: string, redisUrl: string, overrides?: ConfigOverrides): Promise<TestPorts> {
  const config = testConfig(overrides);
  const name = `onair_t_${suffix()}`;
  const admin = await openDatabase({ url: dbUrl, dataDir: config.dataDir });
  await admin.sequelize.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  let db: Database;
  try {
    db = await openDatabase({ url: withDatabase(dbUrl, name), dataDir: config.dataDir });
    await db.migrate();
  } catch (err) {
    await admin.sequelize.query(`DROP DATABASE IF EXISTS \`${name}\``).catch(() => undefined);
    await admin.close();
    throw err;
  }
  const prefix = `onair:t:${suffix()}:`;
  const cache = new RedisCache({ url: redisUrl, prefix });
  const rateLimits = new RedisRateLimits({ url: redisUrl, prefix });
  // Until connected its counters count in memory (its outage fallback): wait, so a test counts in Redis only.
  await rateLimits.ready();
  return {
    db, cache, config, rateLimits, redis: { url: redisUrl, prefix },
    async close() {
      await rateLimits.close();
      await cache.deleteAllWithPrefix().catch(() => undefined);
      await cache.close();
      await db.close();
      await admin.sequelize.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await admin.close();
    },
  };
}

export function testAdapterSets(): TestAdapterSet[] {
  const sets: TestAdapterSet[] = [{ name: 'embedded', make: embedded }];
  const dbUrl = process.env.ONAIR_TEST_DATABASE_URL;
  const redisUrl = process.env.ONAIR_TEST_REDIS_URL;
  if (dbUrl && redisUrl) {
    sets.push({ name: 'mariadb+redis', make: (o) => mariadbRedis(dbUrl, redisUrl, o) });
  } else if (process.env.ONAIR_STRICT === '1') {
    throw new Error('ONAIR_STRICT=1: ONAIR_TEST_DATABASE_URL and ONAIR_TEST_REDIS_URL must both be set');
  }
  return sets;
}
