/**
 * Shared by the media engine's tests (and usable by other media tests): a config on port 0, a
 * small StreamHooks (key 'X' publishes as 'room1', token 'good' plays), an engine mounted on an
 * HTTP server, and ffmpeg helpers. Hooks are the engine's input port, so a test double here is
 * the engine's real boundary; the full control path is tested end to end elsewhere.
 */
import { createServer, type Server, request as httpRequest, type IncomingMessage } from 'node:http';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { loadConfig, type OnairConfig } from '../core/config/load.js';
import { silentLogger, type Logger } from '../core/logging/logger.js';
import type { MediaEventName, MediaEvents, PlayRequest, PublishRequest, StreamHooks } from '../core/media/media-contract.js';
import { MediaEngine, type MediaEngineTuning } from './engine.js';
import type { LiveStreamView, MediaPlugin, MediaPluginContext } from './plugin.js';
import type { MediaPacket } from './stream/media-packet.js';

export const TEST_KEY = 'X';
export const TEST_STREAM = 'room1';
export const TEST_TOKEN = 'good';

export interface TestHooks extends StreamHooks {
  publishes: PublishRequest[];
  plays: PlayRequest[];
}

/** Key 'X' -> 'room1'; token 'good' plays. `delayMs` slows every answer (to test pausing). */
export function testHooks(opts: { delayMs?: number; hang?: boolean } = {}): TestHooks {
  const publishes: PublishRequest[] = [];
  const plays: PlayRequest[] = [];
  const wait = () => new Promise<void>((r) => (opts.hang ? undefined : setTimeout(r, opts.delayMs ?? 0)));
  return {
    publishes,
    plays,
    async authorizePublish(req) {
      publishes.push(req);
      await wait();
      return req.streamKey === TEST_KEY ? { allow: true, streamName: TEST_STREAM, record: false, sessionId: 's1' } : { allow: false, reason: 'bad key' };
    },
    async authorizePlay(req) {
      plays.push(req);
      await wait();
      return req.token === TEST_TOKEN ? { allow: true } : { allow: false, reason: req.token ? 'bad token' : 'no token' };
    },
  };
}

export function testConfig(
  media: Partial<OnairConfig['media']> = {}, rtmp: Partial<OnairConfig['rtmp']> = {}, live: Partial<OnairConfig['live']> = {},
): OnairConfig {
  return loadConfig({}, {
    host: '127.0.0.1',
    dataDir: mkdtempSync(join(tmpdir(), 'onair-media-')),
    secret: 'test-secret-test-secret-0123456789',
    http: { port: 0 },
    rtmp: { port: 0, app: 'live', ...rtmp },
    live,
    // webrtcWarm off: werift's load at the first publish (0.3-0.7 s of synchronous work from the
    // sources under tsx) is for WebRTC's own tests (whep.test.ts), not every engine's.
    media: { hookTimeout: 3000, idleTimeout: 10_000, statsInterval: 1000, webrtcWarm: false, ...media },
  });
}

export interface EngineHarness {
  engine: MediaEngine;
  http: Server;
  httpPort: number;
  rtmpPort: number;
  metrics: Registry;
  events: { name: MediaEventName; payload: unknown }[];
  close(): Promise<void>;
}

export async function startEngine(opts: {
  hooks?: StreamHooks;
  config?: OnairConfig;
  plugins?: MediaPlugin[];
  tuning?: Partial<MediaEngineTuning>;
  log?: Logger;
} = {}): Promise<EngineHarness> {
  const metrics = new Registry();
  const engine = new MediaEngine({
    config: opts.config ?? testConfig(),
    hooks: opts.hooks ?? testHooks(),
    log: opts.log ?? silentLogger(),
    metrics,
    plugins: opts.plugins,
    tuning: opts.tuning,
  });
  const events: EngineHarness['events'] = [];
  for (const name of ['publish.started', 'publish.ended', 'play.started', 'play.ended', 'stream.stats', 'record.done'] as const) {
    engine.on(name, (payload: unknown) => events.push({ name, payload }));
  }
  await engine.start();
  const http = createServer((req, res) => {
    if (!engine.handleHttp(req, res)) res.writeHead(404).end();
  });
  http.on('upgrade', (req, socket, head) => {
    if (!engine.handleUpgrade(req, socket, head)) socket.destroy();
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const httpPort = (http.address() as { port: number }).port;
  return {
    engine, http, httpPort, rtmpPort: engine.rtmpPort, metrics, events,
    async close() {
      await engine.close();
      http.closeAllConnections();
      await new Promise<void>((r) => http.close(() => r()));
    },
  };
}

/** ffmpeg publishing lavfi test media (H.264 640x360 30 fps, GOP 60, AAC) to an RTMP URL, in real time. */
export function ffmpegPublish(url: string, opts: { seconds?: number; size?: string; extra?: string[] } = {}): ChildProcess {
  const args = [
    '-hide_banner', '-loglevel', 'error', '-re',
    '-f', 'lavfi', '-i', `testsrc2=size=${opts.size ?? '640x360'}:rate=30`,
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100',
    ...(opts.seconds ? ['-t', String(opts.seconds)] : []),
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '60', '-pix_fmt', 'yuv420p',
    '-c:a', 'aac', '-b:a', '64k', ...(opts.extra ?? []), '-f', 'flv', url,
  ];
  const child = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.setEncoding('utf8');
  let err = '';
  child.stderr!.on('data', (d: string) => (err = (err + d).slice(-4000)));
  (child as ChildProcess & { stderrText: () => string }).stderrText = () => err;
  return child;
}

/** ffmpeg decoding the first 2 s of `url` into nothing, as strictly as it can (-xerror): exit code and error text. */
export function ffmpegDecode(url: string, timeoutMs = 20_000): Promise<{ code: number | null; err: string }> {
  return new Promise((resolve) => {
    const c = spawn('ffmpeg', ['-v', 'error', '-xerror', '-i', url, '-t', '2', '-f', 'null', '-']);
    let err = '';
    c.stderr.on('data', (d) => (err += d));
    const t = setTimeout(() => c.kill('SIGKILL'), timeoutMs);
    c.on('exit', (code) => {
      clearTimeout(t);
      resolve({ code, err });
    });
  });
}

/** Resolves when the engine emitted `name` matching `pred` (past events included). */
export function waitForEvent<K extends MediaEventName>(
  h: EngineHarness, name: K, pred: (p: MediaEvents[K]) => boolean = () => true, timeoutMs = 15_000,
): Promise<MediaEvents[K]> {
  const seen = h.events.find((e) => e.name === name && pred(e.payload as MediaEvents[K]));
  if (seen) return Promise.resolve(seen.payload as MediaEvents[K]);
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      h.engine.off(name, on as never);
      reject(new Error(`no ${name} within ${timeoutMs} ms`));
    }, timeoutMs);
    const on = (p: MediaEvents[K]) => {
      if (!pred(p)) return;
      clearTimeout(t);
      h.engine.off(name, on as never);
      resolve(p);
    };
    h.engine.on(name, on as never);
  });
}

/** GET with a raw response (not consumed). */
export function httpGet(port: number, path: string, method = 'GET'): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method, agent: false }, resolve);
    req.on('error', reject);
    req.end();
  });
}

/** Reads a response body until `bytes` arrived or `timeoutMs` passed, then destroys it. */
export function readSome(res: IncomingMessage, bytes: number, timeoutMs = 10_000): Promise<Buffer> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let n = 0;
    const done = () => {
      clearTimeout(t);
      res.destroy();
      resolve(Buffer.concat(parts));
    };
    const t = setTimeout(done, timeoutMs);
    res.on('data', (d: Buffer) => {
      parts.push(d);
      n += d.length;
      if (n >= bytes) done();
    });
    res.on('end', done);
    res.on('error', done);
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until true or the time is up. */
export async function until(check: () => boolean, timeoutMs = 10_000, stepMs = 20): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (check()) return true;
    await sleep(stepMs);
  }
  return check();
}

export function killHard(child: ChildProcess | undefined): void {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/** Spins the CPU for `ms` (a plugin reader standing in for a saturated engine: admission and shedding tests). */
export function burnCpu(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

/**
 * A plugin whose reader, while `slow`, spends `packetBurnMs` (40) ms of CPU on every video packet (30 a second):
 * more work than the core has, as a saturated engine has, so the viewers' writes fall behind
 * (admission tests of every protocol). Meanwhile it also spins 5 ms on every turn of the event
 * loop, which then never waits idle: the guard wants a saturated loop as well as a lag
 * (OverloadGuard), and on a loaded machine the publisher (ffmpeg) may send fewer packets than the
 * burn needs to saturate the loop alone. `spinMs` sets that spin: a turn longer than the lag
 * limit makes every write wait past it whatever the publisher sends (the admission test: how many
 * packets one read brings, and so whether the 40 ms burns add up into a lag, depends on the
 * machine's load). With `packetBurnMs` 0 only the spin holds the loop: a known time per turn,
 * whatever the publisher sends and however loaded the machine (media/starved-engine.ts).
 */
export class SlowReader implements MediaPlugin {
  readonly name = 'slow-reader';
  private burning = false;
  private spin: NodeJS.Immediate | undefined;

  constructor(private readonly spinMs = 5, private readonly packetBurnMs = 40) {}

  get slow(): boolean {
    return this.burning;
  }

  set slow(on: boolean) {
    this.burning = on;
    if (on && !this.spin) {
      const turn = () => {
        this.spin = undefined;
        if (!this.burning) return;
        burnCpu(this.spinMs);
        this.spin = setImmediate(turn);
      };
      this.spin = setImmediate(turn);
    }
  }

  start(ctx: MediaPluginContext): void {
    ctx.streams.on('publish', (s: LiveStreamView) => {
      s.addReader({
        id: `slow-${s.publisherId}`,
        kind: 'internal',
        onPacket: (p: MediaPacket) => {
          if (this.burning && p.type === 9 && this.packetBurnMs > 0) burnCpu(this.packetBurnMs);
        },
        onStreamEnd: () => {},
      });
    });
  }

  async close(): Promise<void> {
    this.slow = false;
    if (this.spin) clearImmediate(this.spin);
    this.spin = undefined;
  }
}

/** The value of metric `name` in the harness's registry whose labels match `labels` (0 when none). */
export async function metricValue(h: EngineHarness, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = await h.metrics.getSingleMetric(name)!.get();
  return m.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value ?? 0;
}
