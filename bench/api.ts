/**
 * `npm run bench:api`: requests/s and p50/p99 latency (autocannon) of the control API's hot
 * endpoints, on SQLite + in-process cache and on MariaDB + Redis. The control service runs as a
 * child pinned to core 0; autocannon runs here, pinned to core 1.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { OnairApi } from '../stress/api-client.js';
import { assertLoopbackTargets } from '../stress/loopback.js';
import { fixed, formatTable, LiveTable } from '../stress/report/table.js';
import { freePort, pinSelf, setSelfPriority, startChild, waitForPort, type Child } from './lib/child.js';
import { BENCH_HOOK_SECRET, SCENARIOS, srsOnPublishBody, type ApiFixture } from './lib/api-scenarios.js';
import { machineBusySeconds } from './lib/machine-cpu.js';
import { ProcUsage } from '../stress/report/server-usage.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const HELP = `npm run bench:api -- [options]

Requests/s and p50/p99 latency (autocannon) for play-token issue, the publish hook (SRS body), room
details and start+close, against the control API (control/main.ts, pinned to core 0) on each backend.

  --backends LIST     sqlite (SQLite + in-process cache) and/or mariadb (MariaDB + Redis); default both
  --database URL      MariaDB server for the mariadb backend (default mysql://root@127.0.0.1:3306);
                      a fresh database onair_bench_<time> is created there and dropped afterwards
  --redis URL         Redis for the mariadb backend (default redis://127.0.0.1:6379/9)
  --connections N     autocannon connections (default 50)
  --seconds S         per scenario (default 10)
  --nice=N            run control and autocannon at nice N (-20..19; negative needs root; default 0)
  -h, --help          this help`;

interface Row {
  backend: string;
  scenario: string;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  serverCpu: number | undefined;
  otherCpu: number;
}

async function mysqlAdmin(url: string, sql: string): Promise<void> {
  const mysql = await import('mysql2/promise');
  const conn = await mysql.createConnection(url);
  try {
    await conn.query(sql);
  } finally {
    await conn.end();
  }
}

async function fixture(base: string, connections: number): Promise<ApiFixture> {
  const api = new OnairApi(base);
  await api.loginAnchor();
  const live = await api.createRoom('bench live');
  await api.startLive(live.id);
  // The hook is what makes the room live when no embedded engine runs (control alone).
  const res = await fetch(new URL(`/api/v1/hook/on_publish?secret=${BENCH_HOOK_SECRET}`, base), { method: 'POST', headers: { 'content-type': 'application/json' }, body: srsOnPublishBody(live.streamKey, 0) });
  if (!res.ok) throw new Error(`on_publish hook: HTTP ${res.status}`);
  await api.playTokenWhenLive(live.id, 5000);
  const spare: string[] = [];
  for (let i = 0; i < Math.min(connections, 20); i++) spare.push((await api.createRoom(`bench spare ${i}`)).id);
  const hookKeys: string[] = [];
  for (let i = 0; i < Math.min(connections, 20); i++) {
    const room = await api.createRoom(`bench hook ${i}`);
    await api.startLive(room.id);
    hookKeys.push(room.streamKey);
  }
  return { base, bearer: api.bearerToken, liveRoomId: live.id, liveStreamKey: live.streamKey, spareRoomIds: spare, hookStreamKeys: hookKeys };
}

async function runBackend(name: string, env: NodeJS.ProcessEnv, connections: number, seconds: number, table: LiveTable, rows: Row[]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), `onair-bench-api-${name}-`));
  const port = await freePort();
  let child: Child | undefined;
  try {
    child = startChild([process.execPath, '--import', 'tsx', join(ROOT, 'control/main.ts')], {
      cpus: '0', cwd: ROOT, logFile: join(dir, 'control.log'),
      // Rate limits off: one client address (autocannon) would be throttled to 600 play tokens a minute.
      env: { ...process.env, ...env, ONAIR_DATA_DIR: dir, ONAIR_HTTP_PORT: String(port), ONAIR_HOST: '127.0.0.1', ONAIR_LOG_LEVEL: 'warn', ONAIR_HOOK_SECRET: BENCH_HOOK_SECRET, ONAIR_RATE_LIMITS: 'false' },
    });
    await waitForPort(port, 30_000);
    const base = `http://127.0.0.1:${port}`;
    const f = await fixture(base, connections);
    const usage = new ProcUsage(child.pid);
    for (const s of SCENARIOS) {
      const u0 = await usage.sample();
      const busy0 = machineBusySeconds();
      const cpu0 = process.cpuUsage();
      const t0 = Date.now();
      const r = await autocannon(s.build(f, connections, seconds));
      const u1 = await usage.sample();
      const elapsed = (Date.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      const serverCpu = u0 && u1 ? ((u1.cpuSeconds - u0.cpuSeconds) / elapsed) * 100 : undefined;
      const machine = ((machineBusySeconds() - busy0) / elapsed) * 100;
      const row: Row = {
        backend: name, scenario: s.name, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx, errors: r.errors + r.timeouts,
        serverCpu, otherCpu: Math.max(0, machine - (serverCpu ?? 0) - ((cpu.user + cpu.system) / 1e6 / elapsed) * 100),
      };
      rows.push(row);
      table.row(cells(row));
    }
  } finally {
    await child?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const HEADERS = ['backend', 'scenario', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'errors', 'srv cpu%', 'other cpu%'];
const cells = (r: Row) => [r.backend, r.scenario, fixed(r.rps), fixed(r.p50, 1), fixed(r.p99, 1), r.non2xx, r.errors, fixed(r.serverCpu), fixed(r.otherCpu)];

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: process.argv.slice(2), strict: true,
    options: { backends: { type: 'string' }, database: { type: 'string' }, redis: { type: 'string' }, connections: { type: 'string' }, seconds: { type: 'string' }, nice: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const backends = (values.backends ?? 'sqlite,mariadb').split(',').map((b) => b.trim());
  for (const b of backends) if (b !== 'sqlite' && b !== 'mariadb') throw new Error(`--backends: unknown '${b}'`);
  const connections = Math.min(1000, Math.max(1, Number(values.connections ?? 50) || 50));
  const seconds = Math.min(300, Math.max(2, Number(values.seconds ?? 10) || 10));
  const dbServer = (values.database ?? 'mysql://root@127.0.0.1:3306').replace(/\/$/, '');
  const redis = values.redis ?? 'redis://127.0.0.1:6379/9';
  assertLoopbackTargets([dbServer, redis], false);
  const pinned = pinSelf('1');
  const nice = Number(values.nice ?? 0);
  if (!Number.isInteger(nice) || nice < -20 || nice > 19) throw new Error('--nice: -20..19');
  const niced = nice !== 0 && setSelfPriority(nice);
  console.log(`control pinned to core 0, autocannon on core 1${pinned ? '' : ' (taskset unavailable: not pinned)'}; ${connections} connections, ${seconds} s per scenario${niced ? `; nice ${nice}` : ''}\n`);
  const rows: Row[] = [];
  const notes: string[] = [];
  const table = new LiveTable(HEADERS, (l) => console.log(l), 6, [13, 39]);
  for (const b of backends) {
    if (b === 'sqlite') {
      await runBackend('sqlite+memory', { ONAIR_DATABASE_URL: '', ONAIR_REDIS_URL: '' }, connections, seconds, table, rows).catch((e: Error) => notes.push(`sqlite: ${e.message}`));
      continue;
    }
    const dbName = `onair_bench_${Date.now()}`;
    try {
      await mysqlAdmin(dbServer, `CREATE DATABASE \`${dbName}\``);
    } catch (e) {
      notes.push(`mariadb: not run (${(e as Error).message})`);
      continue;
    }
    try {
      await runBackend('mariadb+redis', { ONAIR_DATABASE_URL: `${dbServer}/${dbName}`, ONAIR_REDIS_URL: redis }, connections, seconds, table, rows).catch((e: Error) => notes.push(`mariadb: ${e.message}`));
    } finally {
      await mysqlAdmin(dbServer, `DROP DATABASE IF EXISTS \`${dbName}\``).catch(() => undefined);
    }
  }
  console.log(`\nresults\n${formatTable(HEADERS, rows.map(cells))}`);
  if (notes.length) console.log(`\nnotes:\n${notes.map((n) => `- ${n}`).join('\n')}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`bench:api: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
