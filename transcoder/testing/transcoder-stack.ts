import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../core/config/load.js';
import type { OnairConfig } from '../../core/config/schema.js';
import { openDatabase, type Database } from '../../core/database/database.js';
import { DbEventBus } from '../../core/event-bus/db-event-bus.js';
import { RedisStreamEventBus } from '../../core/event-bus/redis-stream-event-bus.js';
import type { EventBus } from '../../core/event-bus/event-bus.port.js';
import type { BusEvents } from '../../core/events/bus-events.js';
import { parseS3Url } from '../../core/config/s3-url.js';
import { LocalObjectStore } from '../../core/object-store/local-object-store.js';
import { MinioObjectStore } from '../../core/object-store/minio-object-store.js';
import type { ObjectStore } from '../../core/object-store/object-store.port.js';
import { mysqlTestDatabase, requireEnv, type TestDatabase } from '../../core/testing/test-bus.js';
import { startTestS3Server, type TestS3Server } from '../../core/testing/s3-test-server.js';

/**
 * What a transcoder runs on, twice (DEVELOPERS "Test servers"):
 *   embedded  SQLite file + DbEventBus + LocalObjectStore (a folder)
 *   cluster   MariaDB + RedisStreamEventBus + MinioObjectStore on s3rver behind the test proxy (5 MiB parts)
 * Everything lives in files, databases and servers another process can open too: `env` is the
 * ONAIR_* environment a child `transcoder/main.ts` needs to work on the same stack.
 */
export interface TranscoderStack {
  db: Database;
  bus: EventBus<BusEvents>;
  objects: ObjectStore;
  s3?: TestS3Server;
  /** dataDir, media.recordingsDir, database/redis/s3 as the stack's. */
  config: OnairConfig;
  recordingsDir: string;
  env: Record<string, string>;
  close(): Promise<void>;
}

export interface TranscoderStackSet {
  name: 'embedded' | 'cluster';
  make(): Promise<TranscoderStack>;
  /** Stops the set's s3rver. */
  close(): Promise<void>;
}

const SECRET = 'test-secret-0123456789abcdef';

export function transcoderStackSets(): TranscoderStackSet[] {
  const sets: TranscoderStackSet[] = [embeddedSet()];
  const dbUrl = requireEnv('ONAIR_TEST_DATABASE_URL');
  const redisUrl = requireEnv('ONAIR_TEST_REDIS_URL');
  if (dbUrl && redisUrl) sets.push(clusterSet(dbUrl, redisUrl));
  return sets;
}

function baseEnv(dataDir: string, recordingsDir: string): Record<string, string> {
  return { ONAIR_DATA_DIR: dataDir, ONAIR_RECORDINGS_DIR: recordingsDir, ONAIR_SECRET: SECRET, ONAIR_LOG_LEVEL: 'info', ONAIR_HTTP_PORT: '0', ONAIR_HOST: '127.0.0.1' };
}

function embeddedSet(): TranscoderStackSet {
  return {
    name: 'embedded',
    async make() {
      const dataDir = mkdtempSync(join(tmpdir(), 'onair-transcoder-'));
      const recordingsDir = join(dataDir, 'recordings');
      mkdirSync(recordingsDir, { recursive: true });
      const dbUrl = `sqlite:${join(dataDir, 'onair.db')}`;
      const db = await openDatabase({ url: dbUrl, dataDir });
      await db.migrate();
      const bus = new DbEventBus<BusEvents>(db);
      const objects = new LocalObjectStore(join(dataDir, 'objects'));
      const env = { ...baseEnv(dataDir, recordingsDir), ONAIR_DATABASE_URL: dbUrl };
      const config = loadConfig(env, { logLevel: 'silent' });
      return {
        db, bus, objects, config, recordingsDir, env,
        async close() {
          await bus.close();
          await objects.close();
          await db.close();
          rmSync(dataDir, { recursive: true, force: true });
        },
      };
    },
    async close() {},
  };
}

function clusterSet(dbUrl: string, redisUrl: string): TranscoderStackSet {
  let server: Promise<TestS3Server> | undefined;
  return {
    name: 'cluster',
    async make() {
      const dataDir = mkdtempSync(join(tmpdir(), 'onair-transcoder-'));
      const recordingsDir = join(dataDir, 'recordings');
      mkdirSync(recordingsDir, { recursive: true });
      const tdb: TestDatabase = mysqlTestDatabase(dbUrl);
      const db = await tdb.open();
      const prefix = `onair-test:${randomBytes(4).toString('hex')}:`;
      const bus = new RedisStreamEventBus<BusEvents>({ url: redisUrl, prefix });
      server ??= startTestS3Server();
      const s3 = await server;
      const s3Url = s3.url(`t-${randomBytes(6).toString('hex')}`, `partSize=${5 * 1024 * 1024}`);
      const objects = new MinioObjectStore({ target: parseS3Url(s3Url) });
      // The database the kit made: same URL with its schema name.
      const u = new URL(dbUrl.replace(/^mariadb:/, 'mysql:'));
      u.pathname = `/${(db.sequelize.config as { database: string }).database}`;
      const env = { ...baseEnv(dataDir, recordingsDir), ONAIR_DATABASE_URL: u.toString(), ONAIR_REDIS_URL: redisUrl, ONAIR_REDIS_PREFIX: prefix, ONAIR_S3_URL: s3Url };
      const config = loadConfig(env, { logLevel: 'silent' });
      return {
        db, bus, objects, s3, config, recordingsDir, env,
        async close() {
          await (bus as RedisStreamEventBus<BusEvents>).destroy().catch(() => undefined);
          await bus.close();
          await objects.close();
          await db.close();
          await tdb.destroy();
          rmSync(dataDir, { recursive: true, force: true });
        },
      };
    },
    async close() {
      if (server) await (await server).close();
      server = undefined;
    },
  };
}
