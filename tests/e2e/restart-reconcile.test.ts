/**
 * Issue 9, point 16: after `kill -9` and a restart, rooms stayed falsely live until the reaper's
 * heartbeat timeout (~20-30 s). Now control asks media at start what it holds: a show whose
 * encoder comes back within the reconnect grace keeps its session, the others end after the grace.
 * The first onair is a real child process killed with SIGKILL; the second starts on the same
 * database (SQLite file, or MariaDB + Redis) as `npm start` would.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { missingTool } from '../../core/testing/tools.js';
import { exitWithin, publish, stackAdapterSets, startStack, until, type Stack } from './onair-stack.js';

const skip = missingTool('ffmpeg') || missingTool('ffprobe');
const root = new URL('../..', import.meta.url).pathname;
const SECRET = 'restart-test-secret-0123456789';

/** `npm start` in a child process; resolves with its ports once the banner is printed. */
async function startChild(env: Record<string, string>): Promise<{ child: ChildProcess; api: string; rtmpPort: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'onair.ts'], {
    cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'ignore'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  const ports = await until('onair started', () => {
    const rtmp = /rtmp:\/\/[^:]+:(\d+)\//.exec(out);
    const http = /Health and metrics:\s+(http:\/\/[^ /]+)\/healthz/.exec(out);
    return rtmp && http ? { api: `${http[1]}/api/v1`, rtmpPort: Number(rtmp[1]) } : null;
  }, 60_000, 100);
  return { child, ...ports };
}

for (const adapters of stackAdapterSets()) {
  describe(`restart after kill -9 on ${adapters.name}`, { skip }, () => {
    const cleanups: Array<() => Promise<void> | void> = [];
    after(async () => {
      for (const c of cleanups.reverse()) await c();
    });

    it('live sessions media lost end after the reconnect grace; a show whose encoder reconnects keeps its session', async () => {
      const { env: adapterEnv, cleanup } = await adapters.env();
      cleanups.push(cleanup);
      const dataDir = mkdtempSync(join(tmpdir(), 'onair-restart-'));
      cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
      const env = {
        ...adapterEnv, ONAIR_DATA_DIR: dataDir, ONAIR_SECRET: SECRET, ONAIR_HTTP_PORT: '0', ONAIR_RTMP_PORT: '0',
        ONAIR_LOG_LEVEL: 'silent', ONAIR_HLS: 'false', ONAIR_RECONNECT_GRACE: '3s',
      };
      const first = await startChild(env);
      cleanups.push(() => { first.child.kill('SIGKILL'); });
      const call = async (api: string, method: string, path: string, body?: unknown, token?: string) => {
        const res = await fetch(`${api}${path}`, {
          method, headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
          body: body ? JSON.stringify(body) : undefined,
        });
        return { status: res.status, body: await res.json() as any };
      };
      // Each step must succeed, and says what it got if not (a loaded CI machine once gave a room without id here).
      const ok = async (step: string, res: Promise<{ status: number; body: any }>) => {
        const r = await res;
        assert.ok(r.status >= 200 && r.status < 300, `${step}: ${r.status} ${JSON.stringify(r.body)}`);
        return r.body;
      };
      const anchorRoom = async (name: string) => {
        await ok('register', call(first.api, 'POST', '/auth/register', { username: name, password: 'a-long-password', role: 'anchor' }));
        const token = (await ok('login', call(first.api, 'POST', '/auth/login', { username: name, password: 'a-long-password' }))).token as string;
        return await ok('create room', call(first.api, 'POST', '/rooms', { title: name }, token)) as { id: string; stream_key: string };
      };
      const staying = await anchorRoom(`staying${process.pid}`);
      const leaving = await anchorRoom(`leaving${process.pid}`);
      const pushTo = (port: number, key: string) => {
        const child = publish(`rtmp://127.0.0.1:${port}/live/${key}`);
        cleanups.push(() => { child.kill('SIGKILL'); });
        return child;
      };
      const encoders = [pushTo(first.rtmpPort, staying.stream_key), pushTo(first.rtmpPort, leaving.stream_key)];
      for (const r of [staying, leaving]) await until(`room ${r.id} live`, async () => (await call(first.api, 'GET', `/rooms/${r.id}`)).body.is_live === true, 20_000);
      const sessionOf = async (api: string, id: string) => (await call(api, 'GET', `/rooms/${id}`)).body.session_id as string;
      const stayingSession = await sessionOf(first.api, staying.id);

      first.child.kill('SIGKILL');
      await new Promise((r) => first.child.once('exit', r));
      for (const e of encoders) assert.notEqual(await exitWithin(e, 10_000), 'running', 'the encoder lost its server');

      const second: Stack = await startStack(env);
      cleanups.push(() => second.close());
      const restartedAt = Date.now();
      // The anchor's encoder reconnects (OBS does so by itself) to the restarted server.
      const back = pushTo(second.rtmpPort, staying.stream_key);
      await until('ended after the grace', async () => (await second.call('GET', `/rooms/${leaving.id}`)).body.is_live === false, 8000, 100);
      const tookMs = Date.now() - restartedAt;
      assert.ok(tookMs < 6500, `the room without an encoder stopped being live ${tookMs} ms after the restart (grace 3 s)`);
      await new Promise((r) => setTimeout(r, 1000));
      const stayed = (await second.call('GET', `/rooms/${staying.id}`)).body;
      assert.equal(stayed.is_live, true, 'the reconnected show is live');
      assert.equal(stayed.session_id, stayingSession, 'and kept its session');
      assert.equal(await exitWithin(back, 0), 'running');
      back.kill('SIGKILL');
    });
  });
}
