/**
 * A media engine whose event loop is starved on purpose, in a process of its own, for the
 * admission tests (media/engine-admission.test.ts, media/servers/hls/hls-admission.test.ts).
 *
 * Admission control reacts to the engine's flush lag and to a saturated event loop. The tests
 * make both with SlowReader (a 60 ms hold per loop turn; its per-video-packet burn is off in both
 * tests, so a turn's length does not depend on what a read brings). When the
 * engine ran in the test's own process, the test's clients, retries and assertions shared the
 * starved loop, so how long each phase took depended on the load of the machine (three local
 * failures at load 2-6, each in a different phase). Here only the engine is starved: the test
 * drives it over its real HTTP and RTMP ports, reads its metrics over HTTP (GET /metrics on the
 * engine's HTTP port), and switches the burn over IPC ({ slow }), acknowledged once it is set.
 *
 * startStarvedEngine() is the test side; run as a child (`node --import tsx`), this file starts
 * the engine from the JSON options in ONAIR_TEST_STARVED_ENGINE.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { request as httpRequest } from 'node:http';
import type { OnairConfig } from '../core/config/load.js';
import type { StreamHooks } from '../core/media/media-contract.js';
import { startEngine, testConfig, testHooks, SlowReader, type EngineHarness } from './engine-test-kit.js';
import type { MediaEngineTuning } from './engine.js';
import type { MediaPlugin } from './plugin.js';
import { HlsServer } from './servers/hls/server.js';

export interface StarvedEngineOptions {
  media: Partial<OnairConfig['media']>;
  rtmp?: Partial<OnairConfig['rtmp']>;
  tuning?: Partial<MediaEngineTuning>;
  /** ms of CPU the reader spins per loop turn while slow. */
  spinMs: number;
  /** ms of CPU the reader burns per video packet while slow (SlowReader's default when absent). */
  packetBurnMs?: number;
  /** Runs the HLS server plugin with this viewer idle time. */
  hlsViewerIdleMs?: number;
  /** Plays are allowed for every token starting with this (default: the test token only). */
  playTokenPrefix?: string;
}

type FromChild = { ready: { httpPort: number; rtmpPort: number } } | { event: string } | { slow: boolean };

export interface StarvedEngine {
  httpPort: number;
  rtmpPort: number;
  child: ChildProcess;
  /** Switches the burn on or off; resolves once the engine's process applied it. */
  setSlow(on: boolean): Promise<void>;
  /** Resolves once the engine emitted `name` (past events included). */
  waitForEvent(name: string, timeoutMs?: number): Promise<void>;
  /** A metric's value read from GET /metrics (0 when absent). */
  metricValue(name: string, labels?: Record<string, string>): Promise<number>;
  close(): Promise<void>;
}

const ENV = 'ONAIR_TEST_STARVED_ENGINE';

/** Starts the engine in a child process and waits until it listens. */
export async function startStarvedEngine(opts: StarvedEngineOptions): Promise<StarvedEngine> {
  const child = fork(fileURLToPath(import.meta.url), [], {
    execArgv: ['--import', 'tsx'], env: { ...process.env, [ENV]: JSON.stringify(opts) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const events: string[] = [];
  let ready: { httpPort: number; rtmpPort: number } | undefined;
  let slowAck: boolean | undefined;
  const waiters: (() => void)[] = [];
  const wake = () => { for (const w of waiters.splice(0)) w(); };
  child.on('message', (m: FromChild) => {
    if ('event' in m) events.push(m.event);
    if ('ready' in m) ready = m.ready;
    if ('slow' in m) slowAck = m.slow;
    wake();
  });
  child.on('exit', wake);
  const next = (what: string, ok: () => boolean, timeoutMs: number) => new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`starved engine: no ${what} within ${timeoutMs} ms`)), timeoutMs);
    const check = () => {
      if (ok()) return void (clearTimeout(t), resolve());
      if (child.exitCode !== null || child.signalCode !== null) return void (clearTimeout(t), reject(new Error(`starved engine exited before ${what}`)));
      waiters.push(check);
    };
    check();
  });
  await next('ready', () => ready !== undefined, 120_000);
  const { httpPort, rtmpPort } = ready!;
  return {
    httpPort, rtmpPort, child,
    async setSlow(on) {
      slowAck = undefined;
      child.send({ slow: on });
      await next(`slow=${on}`, () => slowAck === on, 60_000);
    },
    waitForEvent: (name, timeoutMs = 15_000) => next(name, () => events.includes(name), timeoutMs),
    async metricValue(name, labels = {}) {
      const text = await new Promise<string>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port: httpPort, path: '/metrics', agent: false }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (body += d));
          res.on('end', () => resolve(body));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end();
      });
      return parseMetric(text, name, labels);
    },
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** The value of the Prometheus text sample `name` whose labels include `labels` (0 when absent). */
export function parseMetric(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = new Map([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) return Number(m[3]);
  }
  return 0;
}

async function runChild(opts: StarvedEngineOptions): Promise<void> {
  const slow = new SlowReader(opts.spinMs, opts.packetBurnMs);
  const plugins: MediaPlugin[] = [slow];
  if (opts.hlsViewerIdleMs !== undefined) plugins.push(new HlsServer({ viewerIdleMs: opts.hlsViewerIdleMs }));
  let hooks: StreamHooks | undefined;
  if (opts.playTokenPrefix !== undefined) {
    const base = testHooks();
    const prefix = opts.playTokenPrefix;
    hooks = {
      authorizePublish: (req) => base.authorizePublish(req),
      authorizePlay: async (req) => (req.token?.startsWith(prefix) ? { allow: true } : { allow: false, reason: 'bad token' }),
    };
  }
  const h: EngineHarness = await startEngine({ config: testConfig(opts.media, opts.rtmp ?? {}), tuning: opts.tuning, hooks, plugins });
  // Metrics over HTTP, ahead of the engine's own routes.
  const engineHandlers = h.http.listeners('request');
  h.http.removeAllListeners('request');
  h.http.on('request', (req, res) => {
    if (req.url !== '/metrics') return void engineHandlers.forEach((l) => (l as (...a: unknown[]) => void)(req, res));
    void h.metrics.metrics().then((body) => res.writeHead(200, { 'content-type': h.metrics.contentType }).end(body));
  });
  for (const name of ['publish.started', 'publish.ended', 'play.started', 'play.ended'] as const) {
    h.engine.on(name, () => process.send!({ event: name }));
  }
  process.on('message', (m: { slow?: boolean }) => {
    if (typeof m.slow !== 'boolean') return;
    slow.slow = m.slow;
    process.send!({ slow: m.slow });
  });
  const stop = () => void h.close().finally(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('disconnect', stop);
  process.send!({ ready: { httpPort: h.httpPort, rtmpPort: h.rtmpPort } });
}

if (process.env[ENV] && process.send) {
  runChild(JSON.parse(process.env[ENV]) as StarvedEngineOptions).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
