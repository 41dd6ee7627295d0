import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QueryTypes } from 'sequelize';
import { openDatabase, type Database } from '../../core/database/database.js';
import { silentLogger } from '../../core/logging/logger.js';
import { requireEnv, mysqlTestDatabase } from '../../core/testing/test-bus.js';
import { DbEventBus } from '../../core/event-bus/db-event-bus.js';
import { RedisStreamEventBus } from '../../core/event-bus/redis-stream-event-bus.js';
import type { EventBus } from '../../core/event-bus/event-bus.port.js';
import type { BusEvents } from '../../core/events/bus-events.js';
import type { DomainEvents } from '../../core/events/domain-events.js';
import { until } from '../../core/event-bus/event-bus.contract.js';

const entry = new URL('./testing/consumer-entry.ts', import.meta.url).pathname;

interface Setup {
  name: string;
  redisUrl?: string;
  /** The parent's (migrated) database and the URL the child opens it by. */
  open(): Promise<{ db: Database; childUrl: string }>;
  cleanup(): Promise<void>;
}

function setups(): Setup[] {
  const dir = mkdtempSync(join(tmpdir(), 'onair-crash-'));
  const file = `sqlite:${join(dir, 'crash.db')}`;
  const out: Setup[] = [{
    name: 'SQLite + DbEventBus',
    async open() {
      const db = await openDatabase({ url: file, dataDir: dir, log: silentLogger() });
      await db.migrate();
      return { db, childUrl: file };
    },
    async cleanup() { rmSync(dir, { recursive: true, force: true }); },
  }];
  const mysql = requireEnv('ONAIR_TEST_DATABASE_URL');
  const redis = requireEnv('ONAIR_TEST_REDIS_URL');
  if (mysql) {
    for (const redisUrl of redis ? [undefined, redis] : [undefined]) {
      const tdb = mysqlTestDatabase(mysql);
      out.push({
        name: `MariaDB + ${redisUrl ? 'RedisStreamEventBus' : 'DbEventBus'}`,
        redisUrl,
        async open() {
          const db = await tdb.open();
          const u = new URL(mysql);
          u.pathname = `/${(db.sequelize.config as { database: string }).database}`;
          return { db, childUrl: u.toString() };
        },
        cleanup: () => tdb.destroy(),
      });
    }
  }
  return out;
}

function startChild(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('child did not start')), 30_000);
    child.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('ready')) { clearTimeout(timer); resolve(child); } });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`child exited early (${code})`)); });
  });
}

const exited = (child: ChildProcess) => new Promise<void>((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', () => r())));

describe('callback consumer killed with SIGKILL mid-batch, then restarted', () => {
  const children = new Set<ChildProcess>();
  after(() => { for (const c of children) c.kill('SIGKILL'); });

  for (const setup of setups()) {
    it(`${setup.name}: nothing lost, nothing applied twice`, { timeout: 120_000 }, async () => {
      const { db, childUrl: childDbUrl } = await setup.open();
      const prefix = `onair-crash:${randomBytes(4).toString('hex')}:`;
      const bus: EventBus<BusEvents> = setup.redisUrl ? new RedisStreamEventBus<BusEvents>({ url: setup.redisUrl, prefix }) : new DbEventBus<BusEvents>(db);
      const env = { CHILD_DB_URL: childDbUrl, CHILD_DELAY_MS: '4', CHILD_VISIBILITY_MS: '1000', ...(setup.redisUrl ? { CHILD_REDIS_URL: setup.redisUrl, CHILD_PREFIX: prefix } : {}) };
      try {
        const first = await startChild(env);
        children.add(first);
        const unique = 300;
        const events: Array<DomainEvents['recording.finished']> = Array.from({ length: unique }, (_, i) => ({
          eventId: `css:100:crash-${i}`, at: Date.now(), roomId: 'crash-room', publisherId: 'css:crash', file: { url: `http://vod/crash/${i}.flv` },
          format: 'flv', segment: 0, startedAt: 0, endedAt: Date.now(), durationMs: 10_000, size: i, vendorFileId: `crash-${i}`,
        }));
        const sends = [...events, ...events.slice(0, 100)].sort(() => Math.random() - 0.5);
        for (const e of sends) await bus.publish('recording.finished', e, { key: e.roomId });
        const processed = async () => Number((await db.sequelize.query<{ n: number }>('SELECT COUNT(*) AS n FROM event_processed', { type: QueryTypes.SELECT }))[0]!.n);
        await until(async () => (await processed()) >= 40, 30_000, 'first child working');
        first.kill('SIGKILL');
        await exited(first);
        const atKill = await processed();
        assert.ok(atKill < unique, `killed mid-batch (${atKill} of ${unique} done)`);
        const second = await startChild(env);
        children.add(second);
        await until(async () => (await processed()) >= unique, 60_000, 'the rest after restart');
        await new Promise((r) => setTimeout(r, 1500)); // leased entries of the dead child come back after 1 s: none may apply twice
        second.kill('SIGTERM');
        await exited(second);
        const count = async (sql: string) => Number((await db.sequelize.query<{ n: number }>(sql, { type: QueryTypes.SELECT }))[0]!.n);
        assert.equal(await processed(), unique);
        assert.equal(await count("SELECT COUNT(*) AS n FROM live_records WHERE stream_name = 'crash-room'"), unique);
        assert.equal(await count('SELECT COUNT(DISTINCT identity) AS n FROM live_records'), unique);
        assert.equal((await bus.listDead()).length, 0);
      } finally {
        if (bus instanceof RedisStreamEventBus) await bus.destroy();
        await bus.close();
        await db.close();
        await setup.cleanup();
      }
    });
  }
});
