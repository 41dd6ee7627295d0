/**
 * `npx tsx bench/audience-insert.ts [--batches 2000] [--rounds 3] [--db mysql://root@127.0.0.1:3306/test]`:
 * the CPU of writing a batch of viewing rows (live_audience) through the model's bulkCreate against
 * the raw multi-row INSERT AudienceStore writes (insertAudienceRows), in one process, interleaved
 * (each round runs both, the order alternating), for batches of 1 and of 20 rows. CPU is
 * process.cpuUsage (user + system, every thread: sqlite3 runs its statements on libuv's pool), per
 * batch and per row. The database is a SQLite file in a temporary directory with WAL, as the
 * all-in-one opens it, or the MariaDB named by --db (a database `onair_b_<random>`, dropped after).
 * Prints one line per measure and the load (QUIET: load1 < 0.3 at the start).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Database } from '../core/database/database.js';
import { liveAudienceTable } from '../core/database/models/live-audience.model.js';
import { insertAudienceRows, type AudienceEntry } from '../control/audience/audience.store.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

const batches = Number(arg('batches', '2000'));
const rounds = Number(arg('rounds', '3'));
const dbUrl = process.argv.includes('--db') ? arg('db', '') : undefined;
const load1 = loadavg()[0]!;

async function open(): Promise<{ db: Database; done(): Promise<void> }> {
  if (!dbUrl) {
    const dir = mkdtempSync(join(tmpdir(), 'onair-audience-bench-'));
    const db = await openDatabase({ url: `sqlite:${join(dir, 'onair.db')}`, dataDir: dir });
    await db.migrate();
    return { db, async done() { await db.close(); rmSync(dir, { recursive: true, force: true }); } };
  }
  const name = `onair_b_${randomBytes(6).toString('hex')}`;
  const admin = await openDatabase({ url: dbUrl, dataDir: tmpdir() });
  await admin.sequelize.query(`CREATE DATABASE ${name}`);
  const u = new URL(dbUrl);
  u.pathname = `/${name}`;
  const db = await openDatabase({ url: u.toString(), dataDir: tmpdir() });
  await db.migrate();
  return {
    db,
    async done() {
      await db.close();
      await admin.sequelize.query(`DROP DATABASE ${name}`);
      await admin.close();
    },
  };
}

let seq = 0;
function rows(n: number): AudienceEntry[] {
  const at = new Date();
  return Array.from({ length: n }, () => ({ sessionId: '117000000000000001', roomId: '7', userId: null, viewerKey: `v-${++seq}-${randomBytes(4).toString('hex')}`, at }));
}

async function main(): Promise<void> {
  const { db, done } = await open();
  const table = liveAudienceTable(db.sequelize);
  const ways = {
    bulkCreate: (r: AudienceEntry[]) => table.bulkCreate(r.map((e) => ({ session_id: e.sessionId, room_id: e.roomId, user_id: e.userId, viewer_key: e.viewerKey.slice(0, 64), enter_at: e.at }))),
    raw: (r: AudienceEntry[]) => insertAudienceRows(table, r),
  };
  // Warm-up: both paths JIT-compiled, the table's pages allocated.
  for (const way of Object.values(ways)) for (let i = 0; i < 200; i++) await way(rows(20));
  const totals = new Map<string, { cpuUs: number; batches: number; rows: number }>();
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? (['bulkCreate', 'raw'] as const) : (['raw', 'bulkCreate'] as const);
    for (const size of [1, 20]) {
      for (const name of order) {
        const input = Array.from({ length: batches }, () => rows(size));
        const c0 = process.cpuUsage();
        for (const r of input) await ways[name](r);
        const c = process.cpuUsage(c0);
        const cpuUs = c.user + c.system;
        const key = `${name} x${size}`;
        const t = totals.get(key) ?? { cpuUs: 0, batches: 0, rows: 0 };
        totals.set(key, { cpuUs: t.cpuUs + cpuUs, batches: t.batches + batches, rows: t.rows + batches * size });
        console.log(`round ${round} ${key.padEnd(15)} ${(cpuUs / batches).toFixed(1)} us/batch ${(cpuUs / (batches * size)).toFixed(1)} us/row (user ${(c.user / batches).toFixed(1)}, system ${(c.system / batches).toFixed(1)})`);
      }
    }
  }
  const db_ = dbUrl ? 'mariadb' : 'sqlite file (WAL)';
  console.log(`\n${db_}, ${batches} batches per measure, ${rounds} rounds, load1 at start ${load1.toFixed(2)} (${load1 < 0.3 ? 'QUIET' : 'LOADED'}), load1 at end ${loadavg()[0]!.toFixed(2)}`);
  for (const [key, t] of totals) console.log(`${key.padEnd(15)} ${(t.cpuUs / t.batches).toFixed(1)} us/batch ${(t.cpuUs / t.rows).toFixed(1)} us/row`);
  await done();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
