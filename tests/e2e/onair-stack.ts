/**
 * Test kit for end-to-end tests of the all-in-one process: starts onair.ts's stack on free ports in
 * a temporary data folder and drives it the way a user does (HTTP API, ffmpeg, ffprobe).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../core/config/load.js';
import { silentLogger, type Logger } from '../../core/logging/logger.js';
import { openDatabase } from '../../core/database/database.js';
import { RedisCache } from '../../core/cache/redis-cache.js';
import { startOnair, type OnairProcess } from '../../onair.js';

export interface Stack extends OnairProcess {
  api: string;
  dataDir: string;
  /** JSON request to the API; returns status and parsed body. */
  call(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: any }>;
  /** Registers and logs in a user; returns the bearer token and id. */
  user(role: 'anchor' | 'viewer', name?: string): Promise<{ token: string; id: string }>;
  /** A push URL as the API gave it, with the real RTMP port (the config says 0 in tests). */
  fixPort(url: string): string;
  /** Stops onair (as SIGTERM does) but keeps the data folder, so a test can read the database afterwards; close() still removes it. */
  shutdown(): Promise<void>;
}

let counter = 0;

/**
 * The adapter sets an end-to-end stack can run on, as environment for startStack (or a child
 * onair process): embedded (SQLite file, in-process cache and bus) always, and MariaDB + Redis
 * when ONAIR_TEST_DATABASE_URL / ONAIR_TEST_REDIS_URL name them, each in a database and a Redis
 * key prefix of its own, removed by cleanup().
 */
export interface StackAdapters {
  name: string;
  env(): Promise<{ env: Record<string, string>; cleanup(): Promise<void> }>;
}

export function stackAdapterSets(): StackAdapters[] {
  const sets: StackAdapters[] = [{ name: 'embedded', env: async () => ({ env: {}, cleanup: async () => undefined }) }];
  const dbUrl = process.env.ONAIR_TEST_DATABASE_URL;
  const redisUrl = process.env.ONAIR_TEST_REDIS_URL;
  if (dbUrl && redisUrl) {
    sets.push({
      name: 'mariadb+redis',
      async env() {
        const id = randomBytes(6).toString('hex');
        const name = `onair_t_${id}`;
        const prefix = `onair:t:${id}:`;
        const admin = await openDatabase({ url: dbUrl, dataDir: tmpdir() });
        await admin.sequelize.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
        const url = new URL(dbUrl);
        url.pathname = `/${name}`;
        return {
          env: { ONAIR_DATABASE_URL: url.toString(), ONAIR_REDIS_URL: redisUrl, ONAIR_REDIS_PREFIX: prefix },
          async cleanup() {
            const cache = new RedisCache({ url: redisUrl, prefix });
            await cache.deleteAllWithPrefix().catch(() => undefined);
            await cache.close();
            await admin.sequelize.query(`DROP DATABASE IF EXISTS \`${name}\``);
            await admin.close();
          },
        };
      },
    });
  } else if (process.env.ONAIR_STRICT === '1') {
    throw new Error('ONAIR_STRICT=1: ONAIR_TEST_DATABASE_URL and ONAIR_TEST_REDIS_URL must both be set');
  }
  return sets;
}

export async function startStack(env: Record<string, string> = {}, options: { log?: Logger } = {}): Promise<Stack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'onair-e2e-'));
  const config = loadConfig({
    ONAIR_DATA_DIR: dataDir, ONAIR_HTTP_PORT: '0', ONAIR_RTMP_PORT: '0', ONAIR_LOG_LEVEL: 'silent', ONAIR_HLS: 'false', ONAIR_WEBRTC_WARM: 'false', ...env,
  });
  const onair = await startOnair(config, options.log ?? silentLogger(), { refusalDelayMs: 0 });
  const api = `http://127.0.0.1:${onair.httpPort}/api/v1`;
  const call: Stack['call'] = async (method, path, body, token) => {
    const res = await fetch(`${api}${path}`, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try { parsed = JSON.parse(text); } catch { /* not JSON */ }
    return { status: res.status, body: parsed };
  };
  return {
    ...onair,
    api,
    dataDir,
    call,
    async user(role, name = `${role}${++counter}_${process.pid}`) {
      const password = 'correct-horse-battery';
      const reg = await call('POST', '/auth/register', { username: name, password, role });
      if (reg.status !== 201 && reg.status !== 200) throw new Error(`register failed: ${reg.status} ${JSON.stringify(reg.body)}`);
      const login = await call('POST', '/auth/login', { username: name, password });
      return { token: login.body.token as string, id: String(reg.body.id) };
    },
    fixPort: (url) => url.replace(/^rtmp:\/\/([^/:]+):\d+\//, `rtmp://$1:${onair.rtmpPort}/`),
    shutdown: () => onair.close(),
    async close() {
      await onair.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * ffmpeg publishing lavfi test media (H.264 640x360 30 fps, 2 s GOP, AAC) in real time until killed.
 * `errors()` is what ffmpeg printed (errors only), e.g. the server's refusal reason.
 */
export function publish(url: string): ChildProcess & { exited: Promise<number | null>; errors(): string } {
  const child = spawn('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-re',
    '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '60', '-pix_fmt', 'yuv420p',
    '-c:a', 'aac', '-b:a', '64k', '-f', 'flv', url,
  ], { stdio: ['ignore', 'ignore', 'pipe'] }) as ChildProcess & { exited: Promise<number | null>; errors(): string };
  let err = '';
  child.stderr!.on('data', (d: Buffer) => { if (err.length < 16_384) err += d.toString(); });
  child.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  child.errors = () => err;
  return child;
}

/** ffprobe's view of a URL: codec name, width and height per stream. */
export async function probe(url: string, timeoutMs = 15_000): Promise<Array<{ codec_name: string; width?: number; height?: number }>> {
  const child = spawn('ffprobe', ['-v', 'error', '-rw_timeout', '10000000', '-show_entries', 'stream=codec_name,width,height', '-of', 'json', url], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await new Promise((resolve) => child.once('exit', resolve));
  clearTimeout(timer);
  try {
    return (JSON.parse(out) as { streams?: Array<{ codec_name: string; width?: number; height?: number }> }).streams ?? [];
  } catch {
    return [];
  }
}

/** The stack tests' name for the shared polling loop (core/testing/wait-for.ts). */
export { waitFor as until } from '../../core/testing/wait-for.js';

/** Resolves with the exit code, or 'running' if the process is still alive after `ms`. */
export function exitWithin(child: { exited: Promise<number | null> }, ms: number): Promise<number | null | 'running'> {
  return Promise.race([child.exited, new Promise<'running'>((r) => setTimeout(() => r('running'), ms))]);
}
