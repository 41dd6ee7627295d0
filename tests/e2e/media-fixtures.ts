/**
 * Test helpers for media plugins: an FLV file made by ffmpeg at test time, parsed into hub
 * packets, and a tiny stand-in for the stream hub (LiveStreamView + StreamRegistryView) that
 * feeds those packets to readers the way the real hub does.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../core/config/load.js';
import type { OnairConfig } from '../../core/config/schema.js';
import { silentLogger } from '../../core/logging/logger.js';
import type { MediaEventName, MediaEvents, StreamHooks } from '../../core/media/media-contract.js';
import { verifyMediaCallback } from '../../core/callbacks/media-callback-signature.js';
import { mediaHookSecret } from '../../core/callbacks/hook-secret.js';
import { MediaEngine } from '../../media/engine.js';
import { HlsServer } from '../../media/servers/hls/server.js';
import { Recorder } from '../../media/recording/recorder.js';
import { createWebHandler } from '../../web/serve.js';
import { TypedEmitter } from '../../core/events/typed-emitter.js';
import { FlvParser } from '../../media/protocols/flv/flv-parser.js';
import { createMediaPacket } from '../../media/stream/packet.js';
import type { MediaPacket, TagType } from '../../media/stream/media-packet.js';
import type { StreamReader } from '../../media/stream/stream-reader.js';
import type { LiveStreamView, StreamRegistryEvents, StreamRegistryView } from '../../media/plugin.js';
import { waitFor } from '../../core/testing/wait-for.js';
export { waitFor };

export interface TestMediaOptions {
  seconds?: number;
  width?: number;
  height?: number;
  fps?: number;
}

/** ffmpeg lavfi input arguments for an H.264/AAC test signal (keyframe every second). */
export function lavfiArgs(o: TestMediaOptions = {}): string[] {
  const { width = 320, height = 240, fps = 30 } = o;
  return [
    '-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=${fps}`,
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p', '-g', String(fps), '-bf', '0',
    '-c:a', 'aac', '-b:a', '64k', '-ar', '44100', '-ac', '2',
  ];
}

/** Writes an FLV test file of `seconds` seconds and returns its path. */
export function makeTestFlv(dir: string, o: TestMediaOptions = {}): string {
  const path = join(dir, `test-${o.width ?? 320}x${o.height ?? 240}.flv`);
  const res = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...lavfiArgs(o), '-t', String(o.seconds ?? 5), '-f', 'flv', path], {
    timeout: 60_000,
  });
  if (res.status !== 0) throw new Error(`ffmpeg failed: ${res.stderr?.toString()}`);
  return path;
}

/** Every tag of an FLV file as a hub packet (bodies copied, as the hub owns them). */
export function readFlvPackets(path: string): MediaPacket[] {
  const parser = new FlvParser();
  return parser.push(readFileSync(path)).map((t) => createMediaPacket(t.type as TagType, t.timestamp, Buffer.from(t.body)));
}

/** Starts a live ffmpeg publisher to an RTMP URL; the caller kills it. */
export function publishWithFfmpeg(rtmpUrl: string, o: TestMediaOptions & { realtime?: boolean } = {}) {
  return spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', ...lavfiArgs(o), '-t', String(o.seconds ?? 600), '-f', 'flv', rtmpUrl], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

export interface ProbedStream {
  codec_type: string;
  codec_name: string;
  width?: number;
  height?: number;
}

/** ffprobe's view of a URL or file: streams with codec and size. Async: the server may be in this process. */
export async function ffprobe(target: string, timeoutMs = 20_000): Promise<ProbedStream[]> {
  const child = spawn('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_type,codec_name,width,height', '-of', 'json', target], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  clearTimeout(timer);
  if (code !== 0) throw new Error(`ffprobe failed (${code}): ${err}`);
  return (JSON.parse(out) as { streams: ProbedStream[] }).streams;
}

/** A LiveStreamView stand-in: readers get the packets pushed with feed(), then onStreamEnd(). */
export class FakeStream implements LiveStreamView {
  readonly app = 'live';
  readonly startedAt = Date.now();
  readonly readers = new Set<StreamReader>();

  constructor(
    readonly name: string,
    readonly publisherId: string,
    readonly record: boolean,
  ) {}

  addReader(reader: StreamReader): void {
    this.readers.add(reader);
  }
  removeReader(reader: StreamReader): void {
    this.readers.delete(reader);
  }
  feed(packet: MediaPacket): void {
    for (const r of this.readers) r.onPacket(packet);
  }
  /** Feeds packets paced by their timestamps (speed 1 = real time), bounded by `maxMs`. */
  async play(packets: MediaPacket[], speed = 1, maxMs = 30_000): Promise<void> {
    const start = Date.now();
    const t0 = packets.find((p) => !p.isSequenceHeader)?.timestamp ?? 0;
    for (const p of packets) {
      const due = start + Math.max(0, p.timestamp - t0) / speed;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (Date.now() - start > maxMs) break;
      this.feed(p);
    }
  }
  end(): void {
    for (const r of [...this.readers]) r.onStreamEnd();
    this.readers.clear();
  }
}

export class FakeRegistry extends TypedEmitter<StreamRegistryEvents> implements StreamRegistryView {
  readonly streams = new Map<string, FakeStream>();
  get(name: string): LiveStreamView | undefined {
    return this.streams.get(name);
  }
  publish(stream: FakeStream): void {
    this.streams.set(stream.name, stream);
    this.emit('publish', stream);
  }
  unpublish(stream: FakeStream): void {
    stream.end();
    this.streams.delete(stream.name);
    this.emit('unpublish', stream);
  }
}

export interface TestEngine {
  engine: MediaEngine;
  http: Server;
  httpBase: string;
  rtmpBase: string;
  config: OnairConfig;
  events: { name: MediaEventName; payload: unknown }[];
  close(): Promise<void>;
}

/**
 * A real MediaEngine (with the HLS and recorder plugins) on port 0, the web pages mounted beside
 * it on the same HTTP server, and in-process hooks: publish key `sk_{name}` publishes as `{name}`
 * (`sk_rec_{name}` also records; anything else is refused), play token `good` plays.
 */
export async function startTestEngine(
  media: Record<string, unknown> = {},
  options: { api?: (req: IncomingMessage, res: ServerResponse) => boolean } = {},
): Promise<TestEngine> {
  const config = loadConfig({}, {
    host: '127.0.0.1', dataDir: mkdtempSync(join(tmpdir(), 'onair-e2e-')), secret: 'e2e-secret-0123456789abcdef',
    http: { port: 0 }, rtmp: { port: 0, app: 'live' },
    // webrtcWarm off unless asked (engine-test-kit.ts testConfig says why).
    media: { hlsSegment: '1s', statsInterval: '1s', webrtcWarm: false, ...media },
  });
  const hooks: StreamHooks = {
    async authorizePublish(req) {
      const m = /^sk_(rec_)?([0-9]{1,12})$/.exec(req.streamKey);
      return m ? { allow: true, streamName: m[2]!, record: Boolean(m[1]) } : { allow: false, reason: 'unknown key' };
    },
    async authorizePlay(req) {
      return req.token === 'good' ? { allow: true } : { allow: false, reason: req.token ? 'bad token' : 'no token' };
    },
  };
  const engine = new MediaEngine({ config, hooks, log: silentLogger(), plugins: [new HlsServer(), new Recorder()] });
  const events: TestEngine['events'] = [];
  for (const name of ['publish.started', 'publish.ended', 'play.started', 'play.ended', 'stream.stats', 'record.done'] as const) {
    engine.on(name, (payload: unknown) => events.push({ name, payload }));
  }
  await engine.start();
  const web = createWebHandler();
  const http = createServer((req, res) => {
    if (options.api?.(req, res)) return;
    if (!engine.handleHttp(req, res)) web(req, res);
  });
  http.on('upgrade', (req, socket, head) => {
    if (!engine.handleUpgrade(req, socket, head)) socket.destroy();
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  return {
    engine, http, config, events,
    httpBase: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    rtmpBase: `rtmp://127.0.0.1:${engine.rtmpPort}/live`,
    async close() {
      await engine.close();
      http.closeAllConnections();
      await new Promise<void>((r) => http.close(() => r()));
      rmSync(config.dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * A stand-in for control as a separate media service sees it (media/main.ts): a real HTTP server
 * on 127.0.0.1:0 that verifies signed callbacks (POST /api/v1/callback/media, kept in `callbacks`)
 * and answers SRS-style hook calls, which carry the hook secret derived from `key` in their URL
 * (a wrong secret is 401). `hook(path, body, res)` answers a verified hook call; 404 when it
 * returns false. `status(callback)` picks the HTTP status of a verified callback (default 200;
 * only a 2xx one is kept in `callbacks`), e.g. 503 to hold an event in media's queue.
 */
export interface StandInControl {
  url: string;
  callbacks: Array<{ event: MediaEventName; payload: MediaEvents[MediaEventName] }>;
  close(): Promise<void>;
}

export async function startStandInControl(
  key: string,
  hook: (path: string, body: Record<string, any>, res: ServerResponse) => boolean,
  status: (callback: { event: MediaEventName; payload: MediaEvents[MediaEventName] }) => number = () => 200,
): Promise<StandInControl> {
  const callbacks: StandInControl['callbacks'] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      if (req.url === '/api/v1/callback/media') {
        const check = verifyMediaCallback(key, req.headers['x-onair-timestamp'] as string, req.headers['x-onair-signature'] as string, raw);
        if (!check.ok) return void res.writeHead(401).end();
        const callback = JSON.parse(raw.toString()) as StandInControl['callbacks'][number];
        const answer = status(callback);
        if (answer >= 200 && answer < 300) callbacks.push(callback);
        return void res.writeHead(answer).end('{}');
      }
      // Hook calls carry the hook secret in the URL, as SRS and nginx-rtmp configs do (derived from the media key here).
      const url = new URL(req.url ?? '/', 'http://control');
      if (url.searchParams.get('secret') !== mediaHookSecret(key)) return void res.writeHead(401).end('{"code":401}');
      let body: Record<string, any>;
      try {
        body = raw.length > 0 ? JSON.parse(raw.toString()) : {};
      } catch {
        return void res.writeHead(400).end('{"code":400}');
      }
      if (!hook(url.pathname, body, res)) res.writeHead(404).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    callbacks,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/**
 * startTestEngine with a stream already live: ffmpeg publishes `streamKey` (two minutes of test
 * picture) and publish.started has been seen. close() stops ffmpeg, then the engine.
 */
export async function startLiveTestEngine(
  streamKey: string,
  options: { api?: (req: IncomingMessage, res: ServerResponse) => boolean } = {},
): Promise<TestEngine> {
  const media = await startTestEngine({}, options);
  const ffmpeg = publishWithFfmpeg(`${media.rtmpBase}/${streamKey}`, { seconds: 120 });
  const close = async () => {
    ffmpeg.kill('SIGKILL');
    await media.close();
  };
  try {
    await waitFor('the stream to go live', () => media.events.some((e) => e.name === 'publish.started'));
  } catch (err) {
    await close();
    throw err;
  }
  return { ...media, close };
}
