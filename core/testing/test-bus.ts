import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sequelize } from 'sequelize';
import { openDatabase, type Database } from '../database/database.js';
import { silentLogger } from '../logging/logger.js';
import { DbEventBus } from '../event-bus/db-event-bus.js';
import { RedisStreamEventBus } from '../event-bus/redis-stream-event-bus.js';
import type { EventBus, EventCatalog } from '../event-bus/event-bus.port.js';

/**
 * Test storage for the event bus and the callback pipeline, on every real backend this machine has.
 * MariaDB tests get a database of their own (created and dropped here), so they never meet another
 * suite's tables in the shared `test` database. Under ONAIR_STRICT=1 the real backends are required.
 */
export interface TestDatabase {
  name: string;
  /** Opens (or re-opens: same file / same schema) the database, migrated. */
  open(): Promise<Database>;
  /** Drops what the test created. */
  destroy(): Promise<void>;
}

const strict = process.env.ONAIR_STRICT === '1';

export function requireEnv(name: 'ONAIR_TEST_DATABASE_URL' | 'ONAIR_TEST_REDIS_URL'): string | undefined {
  const value = process.env[name];
  if (!value && strict) throw new Error(`ONAIR_STRICT=1: ${name} must be set`);
  return value || undefined;
}

export function sqliteTestDatabase(): TestDatabase {
  const dir = mkdtempSync(join(tmpdir(), 'onair-bus-'));
  return {
    name: 'sqlite',
    async open() {
      const db = await openDatabase({ url: `sqlite:${join(dir, 'test.db')}`, dataDir: dir, log: silentLogger() });
      await db.migrate();
      return db;
    },
    async destroy() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function mysqlTestDatabase(url: string): TestDatabase {
  const schema = `onair_t_${randomBytes(5).toString('hex')}`;
  const u = new URL(url.replace(/^mariadb:/, 'mysql:'));
  const admin = async (sql: string) => {
    const s = new Sequelize(`${u.protocol}//${u.username ? `${u.username}${u.password ? `:${u.password}` : ''}@` : ''}${u.host}/`, { dialect: 'mysql', logging: false });
    try { await s.query(sql); } finally { await s.close(); }
  };
  let created = false;
  return {
    name: 'mariadb',
    async open() {
      if (!created) { await admin(`CREATE DATABASE ${schema} CHARACTER SET utf8mb4`); created = true; }
      const dbUrl = new URL(u.toString());
      dbUrl.pathname = `/${schema}`;
      const db = await openDatabase({ url: dbUrl.toString(), dataDir: tmpdir(), log: silentLogger() });
      await db.migrate();
      return db;
    },
    async destroy() {
      if (created) await admin(`DROP DATABASE IF EXISTS ${schema}`);
    },
  };
}

/** SQLite always; MariaDB when ONAIR_TEST_DATABASE_URL is set (required under ONAIR_STRICT=1). */
export function testDatabases(): TestDatabase[] {
  const url = requireEnv('ONAIR_TEST_DATABASE_URL');
  return [sqliteTestDatabase(), ...(url ? [mysqlTestDatabase(url)] : [])];
}

export interface TestBusFactory {
  name: string;
  /** Makes a bus over storage that outlives it: calling make() again sees the same events ("restart"). */
  make<E extends EventCatalog>(): Promise<EventBus<E>>;
  /** Releases everything (databases, Redis keys). */
  destroy(): Promise<void>;
}

/** One factory per adapter: DbEventBus on SQLite (and MariaDB), RedisStreamEventBus on real Redis. */
export function testBusFactories(): TestBusFactory[] {
  const factories: TestBusFactory[] = testDatabases().map((tdb) => {
    const opened: Database[] = [];
    return {
      name: `DbEventBus/${tdb.name}`,
      async make<E extends EventCatalog>() {
        const db = await tdb.open();
        opened.push(db);
        return new DbEventBus<E>(db);
      },
      async destroy() {
        for (const db of opened) await db.close().catch(() => undefined);
        await tdb.destroy();
      },
    };
  });
  const redisUrl = requireEnv('ONAIR_TEST_REDIS_URL');
  if (redisUrl) {
    const prefix = `onair-test:${randomBytes(4).toString('hex')}:`;
    factories.push({
      name: 'RedisStreamEventBus',
      async make<E extends EventCatalog>() {
        return new RedisStreamEventBus<E>({ url: redisUrl, prefix });
      },
      async destroy() {
        const bus = new RedisStreamEventBus({ url: redisUrl, prefix });
        await bus.destroy();
        await bus.close();
      },
    });
  }
  return factories;
}
