/**
 * npm run bench:notify — the go-live fan-out to an anchor's followers (issue 12 point 7).
 *
 * One anchor with N followers (default 100,000) goes live twice on each backend:
 *   one statement  the fan-out as it was: one INSERT ... SELECT FROM follows in one transaction
 *   chunked        NotificationFanout (control/notifications): BATCH followers per multi-row INSERT
 *                  and transaction, the chunk pushed to the pub/sub channels of the followers, a
 *                  turn of the event loop between chunks
 * While each runs, a probe writes one small transaction every 25 ms (what any other request of the
 * node does: a chat row, a gift) and the event loop's delay is sampled; both show what the fan-out
 * holds up. K followers (default 1000) are subscribed on a second pub/sub node; the pushes they get
 * are counted (the "one statement" path pushed nothing).
 * Backends: SQLite file + in-process pub/sub; MariaDB + Redis (ONAIR_TEST_DATABASE_URL /
 * ONAIR_TEST_REDIS_URL; skipped when unset). Bounded: N <= 500,000, each run times out after 5 min.
 * Env: ONAIR_BENCH_FOLLOWERS, ONAIR_BENCH_BATCH (default 1000), ONAIR_BENCH_SUBSCRIBED, ONAIR_BENCH_PUSH=off (writes only).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { openDatabase, type Database } from '../core/database/database.js';
import { runInTransaction } from '../core/event-bus/db-transaction.js';
import { silentLogger } from '../core/logging/logger.js';
import { MemoryPubSub, MemoryPubSubHub, RedisPubSub, type PubSub } from '../core/pubsub/index.js';
import { NotificationFanout, enqueueFollowerFanout } from '../control/notifications/notification-fanout.js';
import { NotificationPush, notificationChannel } from '../control/notifications/notification-push.js';
import { NotificationStore } from '../control/notifications/notification.store.js';

const FOLLOWERS = Math.min(500_000, Number(process.env.ONAIR_BENCH_FOLLOWERS ?? 100_000));
const BATCH = Number(process.env.ONAIR_BENCH_BATCH ?? 1000);
const SUBSCRIBED = Math.min(FOLLOWERS, Number(process.env.ONAIR_BENCH_SUBSCRIBED ?? 1000));
const ANCHOR = '7';
const FIRST_FAN = 1_000_000;
const log = silentLogger();

interface Backend { name: string; db: Database; publisher: PubSub; subscriber: PubSub; close(): Promise<void> }

async function sqliteBackend(): Promise<Backend> {
  const dir = mkdtempSync(join(tmpdir(), 'onair-bench-notify-'));
  const db = await openDatabase({ url: `sqlite:${join(dir, 'onair.db')}`, dataDir: dir });
  await db.migrate();
  const hub = new MemoryPubSubHub();
  const publisher = new MemoryPubSub({ hub });
  const subscriber = new MemoryPubSub({ hub });
  return {
    name: 'SQLite file + in-process pub/sub', db, publisher, subscriber,
    async close() {
      await publisher.close();
      await subscriber.close();
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function mariadbBackend(dbUrl: string, redisUrl: string): Promise<Backend> {
  const dir = mkdtempSync(join(tmpdir(), 'onair-bench-notify-'));
  const name = `onair_bench_notify_${randomBytes(4).toString('hex')}`;
  const admin = await openDatabase({ url: dbUrl, dataDir: dir });
  await admin.sequelize.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  const u = new URL(dbUrl);
  u.pathname = `/${name}`;
  const db = await openDatabase({ url: u.toString(), dataDir: dir });
  await db.migrate();
  const prefix = `onair:bench:notify:${randomBytes(4).toString('hex')}:`;
  const publisher = new RedisPubSub({ url: redisUrl, prefix });
  const subscriber = new RedisPubSub({ url: redisUrl, prefix });
  return {
    name: 'MariaDB + Redis pub/sub', db, publisher, subscriber,
    async close() {
      await publisher.close();
      await subscriber.close();
      await db.close();
      await admin.sequelize.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await admin.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function seedFollowers(db: Database): Promise<number> {
  const started = Date.now();
  const now = Date.now();
  for (let i = 0; i < FOLLOWERS; i += 5000) {
    const n = Math.min(5000, FOLLOWERS - i);
    const ids = Array.from({ length: n }, (_, k) => FIRST_FAN + i + k);
    await db.sequelize.query(`INSERT INTO follows (user_id, anchor_id, created_at) VALUES ${ids.map(() => '(?, ?, ?)').join(', ')}`, {
      replacements: ids.flatMap((id) => [id, ANCHOR, now]),
    });
  }
  return Date.now() - started;
}

const pct = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]! : 0);

/** Runs `work` with the write probe and the event-loop monitor; returns its figures. */
async function measured(db: Database, work: () => Promise<void>) {
  const probe: number[] = [];
  let stop = false;
  let n = 0;
  const prober = (async () => {
    while (!stop) {
      const t0 = performance.now();
      await runInTransaction(db, (tx) => tx.run('INSERT INTO notifications (user_id, kind, payload, dedupe_key, created_at) VALUES (?, ?, ?, ?, ?)', [42, 'probe', '{}', `probe:${randomBytes(6).toString('hex')}:${n++}`, Date.now()]));
      probe.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 25));
    }
  })();
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const t0 = performance.now();
  await Promise.race([work(), new Promise((_, reject) => setTimeout(() => reject(new Error('run timed out after 5 min')), 300_000).unref())]);
  const ms = performance.now() - t0;
  loop.disable();
  stop = true;
  await prober;
  probe.sort((a, b) => a - b);
  return {
    ms, probes: probe.length, probeP50: pct(probe, 0.5), probeP99: pct(probe, 0.99), probeMax: probe.at(-1) ?? 0,
    loopP99: loop.percentile(99) / 1e6, loopMax: loop.max / 1e6,
  };
}

async function run(backend: Backend): Promise<void> {
  const { db } = backend;
  const seedMs = await seedFollowers(db);
  const store = new NotificationStore(db);
  const push = new NotificationPush({ pubsub: backend.publisher, store, log });
  let received = 0;
  const unsubs = await Promise.all(Array.from({ length: SUBSCRIBED }, (_, k) => backend.subscriber.subscribe(notificationChannel(String(FIRST_FAN + k * Math.floor(FOLLOWERS / SUBSCRIBED))), () => { received++; })));
  const count = async (key: string) => Number((await db.sequelize.query<{ n: number }>('SELECT COUNT(*) AS n FROM notifications WHERE dedupe_key = ?', { replacements: [key], type: 'SELECT' as never }))[0]!.n);
  console.log(`\n${backend.name}: ${FOLLOWERS} followers (seeded in ${(seedMs / 1000).toFixed(1)} s), ${SUBSCRIBED} of them with a socket on another node`);
  console.log('path                    rows      time s   rows/s    probe p50 ms  probe p99 ms  probe max ms  loop p99 ms  loop max ms  pushes received');

  const single = await measured(db, async () => {
    await runInTransaction(db, (tx) => tx.run(
      `${db.dialect === 'sqlite' ? 'INSERT OR IGNORE' : 'INSERT IGNORE'} INTO notifications (user_id, kind, payload, dedupe_key, created_at) SELECT user_id, ?, ?, ?, ? FROM follows WHERE anchor_id = ?`,
      ['live_started', '{"room_id":"1"}', 'live:single', Date.now(), ANCHOR],
    ));
  });
  print('one statement', await count('live:single'), single, 0);

  received = 0;
  let done: () => void;
  const finished = new Promise<void>((r) => { done = r; });
  const pushing = process.env.ONAIR_BENCH_PUSH !== 'off';
  const fanout = new NotificationFanout({ db, push: pushing ? push : { byDedupeKey: async () => 0 }, batch: BATCH, leaseMs: 60_000, pollMs: 3_600_000, log, onDone: () => done() });
  const chunked = await measured(db, async () => {
    await runInTransaction(db, (tx) => enqueueFollowerFanout(tx, ANCHOR, 'live_started', 'live:chunked', { room_id: '1' }));
    fanout.kick();
    await finished;
  });
  await new Promise((r) => setTimeout(r, 300)); // the last pushes cross the broker
  print(`chunked (${BATCH}/chunk)`, await count('live:chunked'), chunked, received);
  await fanout.stop();
  await Promise.all(unsubs.map((u) => u()));
}

function print(name: string, rows: number, m: Awaited<ReturnType<typeof measured>>, pushes: number): void {
  const f = (v: number, w: number, d = 1) => v.toFixed(d).padStart(w);
  console.log(`${name.padEnd(22)}${String(rows).padStart(7)}${f(m.ms / 1000, 10, 2)}${f(rows / (m.ms / 1000), 9, 0)}${f(m.probeP50, 14)}${f(m.probeP99, 14)}${f(m.probeMax, 14)}${f(m.loopP99, 13)}${f(m.loopMax, 13)}${String(pushes).padStart(17)}`);
}

async function main(): Promise<void> {
  console.log(`machine: ${cpus().length} cores, ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}`);
  console.log(`load average at start: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const backends: Array<() => Promise<Backend>> = [sqliteBackend];
  const dbUrl = process.env.ONAIR_TEST_DATABASE_URL;
  const redisUrl = process.env.ONAIR_TEST_REDIS_URL;
  if (dbUrl && redisUrl) backends.push(() => mariadbBackend(dbUrl, redisUrl));
  else console.log('MariaDB + Redis skipped: set ONAIR_TEST_DATABASE_URL and ONAIR_TEST_REDIS_URL');
  for (const make of backends) {
    const backend = await make();
    try {
      await run(backend);
    } finally {
      await backend.close();
    }
  }
  console.log(`\nload average at end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
