/**
 * Issue 9, point 17: stopping onair lost data. After a large audience left, SIGTERM closed the
 * database while batched "viewer left" writes were still queued (1,017 lost; "ConnectionManager.
 * getConnection was called after the connection manager was closed"). Here a real all-in-one stack
 * (startOnair) serves an ffmpeg publish to hundreds of HTTP-FLV viewers; half of them leave at once
 * and close() is called in the same instant, with the other half still watching. Afterwards every
 * audience row must be closed in the database: nothing queued may be dropped by the shutdown.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { request, type ClientRequest } from 'node:http';
import { Sequelize, QueryTypes } from 'sequelize';
import { missingTool } from '../../core/testing/tools.js';
import { requireEnv } from '../../core/testing/test-bus.js';
import { startRedisServer, type TestRedisServer } from '../../core/testing/redis-server.js';
import { lavfiArgs } from './media-fixtures.js';
import { startStack, until, type Stack } from './onair-stack.js';

const VIEWERS = 300;
const skip = missingTool('ffmpeg') || missingTool('redis-server', '--version');

interface AdapterSet {
  name: string;
  /** Environment for the stack, and the database the test reads afterwards. */
  prepare(dataDir: () => string): Promise<{ env: Record<string, string>; databaseUrl: () => string; cleanup(): Promise<void> }>;
}

const sets: AdapterSet[] = [{
  name: 'embedded (SQLite file, in-process cache and bus)',
  async prepare(dataDir) {
    return { env: {}, databaseUrl: () => `sqlite:${dataDir()}/onair.db`, cleanup: async () => {} };
  },
}];
const mysqlUrl = requireEnv('ONAIR_TEST_DATABASE_URL');
if (mysqlUrl) {
  sets.push({
    name: 'MariaDB and Redis (Redis cache, Redis Streams bus, shared rate limits)',
    async prepare() {
      const schema = `onair_t_${randomBytes(5).toString('hex')}`;
      const server = new URL(mysqlUrl);
      server.pathname = '/';
      const admin = new Sequelize(server.toString(), { dialect: 'mysql', logging: false });
      await admin.query(`CREATE DATABASE ${schema} CHARACTER SET utf8mb4`);
      const url = new URL(mysqlUrl);
      url.pathname = `/${schema}`;
      // A private Redis: the all-in-one process uses its default key names, which must not meet other suites'.
      const redis: TestRedisServer = await startRedisServer();
      return {
        env: { ONAIR_DATABASE_URL: url.toString(), ONAIR_REDIS_URL: redis.url },
        databaseUrl: () => url.toString(),
        async cleanup() {
          await redis.stop();
          await admin.query(`DROP DATABASE IF EXISTS ${schema}`);
          await admin.close();
        },
      };
    },
  });
}

async function audience(databaseUrl: string): Promise<{ rows: number; open: number }> {
  const db = databaseUrl.startsWith('sqlite:')
    ? new Sequelize({ dialect: 'sqlite', storage: databaseUrl.slice('sqlite:'.length), logging: false })
    : new Sequelize(databaseUrl, { dialect: 'mysql', logging: false });
  try {
    const [row] = await db.query<{ rows: number; open: number }>(
      'SELECT COUNT(*) AS `rows`, SUM(CASE WHEN exit_at IS NULL THEN 1 ELSE 0 END) AS `open` FROM live_audience', { type: QueryTypes.SELECT });
    return { rows: Number(row?.rows ?? 0), open: Number(row?.open ?? 0) };
  } finally {
    await db.close();
  }
}

/** An HTTP-FLV viewer that reads and discards; resolves once the stream answered 200. */
function viewer(url: string): Promise<ClientRequest> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`viewer got ${res.statusCode}`));
      res.on('data', () => undefined);
      res.on('error', () => undefined);
      resolve(req);
    });
    req.on('error', (err) => reject(err));
    req.end();
  });
}

for (const set of sets) {
  describe(`shutdown on ${set.name}`, { skip }, () => {
    let stack: Stack | undefined;
    let ffmpeg: ChildProcess | undefined;
    let prepared: Awaited<ReturnType<AdapterSet['prepare']>> | undefined;
    const viewers: ClientRequest[] = [];
    after(async () => {
      for (const v of viewers) v.destroy();
      ffmpeg?.kill('SIGKILL');
      await stack?.close();
      await prepared?.cleanup();
    });

    it(`closes every audience row when ${VIEWERS / 2} viewers leave right before close() and ${VIEWERS / 2} are still watching`, async () => {
      prepared = await set.prepare(() => stack!.dataDir);
      stack = await startStack(prepared.env);
      const anchor = await stack.user('anchor');
      const room = await stack.call('POST', '/rooms', { title: 'closing time' }, anchor.token);
      assert.equal(room.status, 201, JSON.stringify(room.body));
      const roomId = room.body.id as string;
      // A small, cheap stream: the point is the number of viewers, not their bitrate.
      ffmpeg = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', ...lavfiArgs({ width: 160, height: 120, fps: 10 }),
        '-f', 'flv', `rtmp://127.0.0.1:${stack.rtmpPort}/live/${room.body.stream_key as string}`], { stdio: 'ignore' });
      await until('the room to be live', async () => (await stack!.call('GET', `/rooms/${roomId}`)).body.is_live === true, 20_000, 100);

      const token = (await stack.call('GET', `/rooms/${roomId}/play-token`)).body.token as string;
      const flv = `http://127.0.0.1:${stack.httpPort}/live/${roomId}.flv?token=${encodeURIComponent(token)}`;
      for (let i = 0; i < VIEWERS; i += 50) viewers.push(...await Promise.all(Array.from({ length: Math.min(50, VIEWERS - i) }, () => viewer(flv))));
      const databaseUrl = prepared.databaseUrl();
      await until(`${VIEWERS} audience rows`, async () => (await audience(databaseUrl)).rows === VIEWERS, 20_000, 200);

      // Half the audience leaves at once, and the operator stops onair in the same instant.
      for (const v of viewers.slice(0, VIEWERS / 2)) v.destroy();
      await stack.shutdown();

      const after = await audience(databaseUrl);
      assert.equal(after.rows, VIEWERS);
      assert.equal(after.open, 0, `${after.open} of ${VIEWERS} audience rows were left open by the shutdown`);
    });
  });
}

/**
 * control/main.ts (the control service compose runs) on SIGTERM: requests in progress are answered,
 * not cut, control drains, and the process exits 0 within its shutdown timeout.
 */
describe('control/main.ts on SIGTERM', () => {
  it('answers the requests in progress, drains, and exits 0', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { freePort } = await import('./edge-kit.js');
    const dataDir = mkdtempSync(join(tmpdir(), 'onair-control-stop-'));
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'control/main.ts'], {
      cwd: new URL('../../', import.meta.url).pathname,
      env: { PATH: process.env.PATH ?? '', ONAIR_DATA_DIR: dataDir, ONAIR_HTTP_PORT: String(port), ONAIR_LOG_LEVEL: 'info', ONAIR_RATE_LIMITS: 'false' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const base = `http://127.0.0.1:${port}/api/v1`;
      await until('control to listen', async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null))?.status === 200, 30_000, 200);
      // Each login hashes a password (tens of ms): some are still running when SIGTERM arrives.
      // A request whose connection the server had not accepted yet may be refused (ECONNREFUSED);
      // none may be cut once accepted (a reset, a hang-up), which is what the old shutdown did.
      const login = (i: number) => new Promise<number | string>((resolve) => {
        const body = JSON.stringify({ username: `nobody${i}`, password: 'some-guess-123' });
        const req = request(`${base}/auth/login`, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
          res.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
        });
        req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
        req.end(body);
      });
      const logins = Promise.all(Array.from({ length: 20 }, (_, i) => login(i)));
      await new Promise((r) => setTimeout(r, 100));
      child.kill('SIGTERM');
      const outcomes = await logins;
      assert.ok(outcomes.every((o) => o === 401 || o === 'ECONNREFUSED'), `a request was cut: ${JSON.stringify(outcomes)}`);
      assert.ok(outcomes.filter((o) => o === 401).length > 0, 'requests in progress were answered');
      assert.equal(await exited, 0);
      assert.match(out, /control drained/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
