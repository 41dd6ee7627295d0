/**
 * `npm run bench:streams [-- --steps 5,10,20 --step-seconds 12 --viewers 1 --hls-viewers 1 --segmenter inprocess]`:
 * how many concurrent published streams one media node holds with HLS and recording on (issue 15, point 4).
 *
 * The engine runs in a child process with the plugins `npm run start:media` builds (HLS: the
 * in-process segmenter, or one ffmpeg child per live stream with `--segmenter ffmpeg`; the
 * recorder), hooks that allow every key and record every publish.
 * This process publishes N copies of a 2 Mb/s sample (Node publishers paced like -re, no ffmpeg on
 * the client side), opens `--viewers` HTTP-FLV viewers per stream and runs `--hls-viewers` HLS
 * viewers per stream (each polls the playlist every second and downloads every new segment). At
 * each step it waits `--step-seconds`, then checks every stream: its playlist answers and has a
 * newer segment than at the start within the step (HLS is live), its FLV viewers got bytes and
 * its HLS viewers got a segment. It prints the engine's CPU (its process and its ffmpeg children,
 * % of one core), their RSS, and the machine's free memory. After the last step, ffmpeg decodes
 * the newest segment of a few streams (`-v error`) to show they are playable.
 *
 * Bounded: it stops after the last step, at the first step where fewer than 95 % of the streams
 * are healthy, or when the machine has less than 2 GB available; nothing runs longer than
 * steps x (step-seconds + 10) seconds. A figure, never a test.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { loadavg } from 'node:os';
import { ensureSample } from '../stress/publish/sample.js';
import { startProbePublisher } from '../stress/publish/probe-publisher.js';
import type { Publisher } from '../stress/publish/ffmpeg-publisher.js';

const SAMPLE = { videoKbps: 1872, audioKbps: 128, width: 854, height: 480, fps: 30, gopSeconds: 2, seconds: 10 };

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}


/** The engine with HLS and recording, every key allowed (key k7 publishes stream s7, recorded). */
async function server(): Promise<void> {
  const { startEngine, testConfig } = await import('../media/engine-test-kit.js');
  const { mediaPlugins } = await import('../media/create-media.js');
  // Every publisher and viewer comes from 127.0.0.1: the per-address RTMP cap would be the limit.
  const segmenter = arg('segmenter', 'inprocess') === 'ffmpeg' ? 'ffmpeg' : 'inprocess';
  const config = testConfig(
    // --max-flush-lag raises the admission limit (ONAIR_MEDIA_MAX_FLUSH_LAG) to see what the node holds without it.
    { hls: true, hlsSegmenter: segmenter, frames: false, hlsSegment: 2000, statsInterval: 5000, maxFlushLag: Number(arg('max-flush-lag', '0')) },
    { maxConnectionsPerIp: 10_000, maxConnections: 10_000 },
  );
  const hooks = {
    async authorizePublish(req: { streamKey: string }) {
      return { allow: true, streamName: `s${req.streamKey.replace(/\D/g, '')}`, record: true, sessionId: req.streamKey };
    },
    async authorizePlay() {
      return { allow: true };
    },
  };
  const h = await startEngine({ config, hooks: hooks as never, plugins: mediaPlugins(config) });
  process.stdout.write(JSON.stringify({ http: h.httpPort, rtmp: h.rtmpPort, dataDir: config.dataDir }) + '\n');
  process.on('SIGTERM', () => void h.close().finally(() => process.exit(0)));
}

interface Usage { cpuTicks: number; rssKb: number; ffmpegs: number }

/** CPU ticks and RSS of `pid` and its children (the HLS ffmpegs), from /proc. */
function treeUsage(pid: number): Usage {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
    } catch { /* gone */ }
  }
  const u: Usage = { cpuTicks: 0, rssKb: 0, ffmpegs: 0 };
  const visit = (p: number, depth: number) => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      u.cpuTicks += Number(f[11]) + Number(f[12]);
      u.rssKb += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
      if (depth > 0 && stat.includes('(ffmpeg)')) u.ffmpegs++;
    } catch { /* gone */ }
    for (const c of children.get(p) ?? []) visit(c, depth + 1);
  };
  visit(pid, 0);
  return u;
}

const memAvailableMb = () => Number(/MemAvailable:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0) / 1024;

function get(port: number, path: string, timeoutMs = 5000): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve({ status: 0, body: '' }));
    req.end();
  });
}

/** The number of the newest segment in a playlist (-1 for none): it grows while HLS is live. */
const lastSegment = (m3u8: string) => Math.max(-1, ...[...m3u8.matchAll(/seg-(\d+)\.ts/g)].map((m) => Number(m[1])));
const segments = (m3u8: string) => (m3u8.match(/#EXTINF/g) ?? []).length;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function mapLimit<T>(n: number, limit: number, f: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, n) }, async () => {
    while (next < n) {
      const i = next++;
      out[i] = await f(i);
    }
  }));
  return out;
}

interface HlsViewer { stream: number; segments: number; bytes: number; stop(): void }

/** An HLS player: polls the playlist every second and downloads each segment it has not seen yet. */
function startHlsViewer(port: number, stream: number, token: string): HlsViewer {
  const seen = new Set<string>();
  let stopped = false;
  const v: HlsViewer = { stream, segments: 0, bytes: 0, stop: () => void (stopped = true) };
  const loop = async () => {
    await sleep(1000 + Math.random() * 1000);
    while (!stopped) {
      const list = await get(port, `/live/s${stream}/index.m3u8?token=${token}`);
      if (list.status === 200) {
        for (const uri of list.body.split('\n').filter((l) => l && !l.startsWith('#'))) {
          if (seen.has(uri) || stopped) continue;
          seen.add(uri);
          const seg = await get(port, `/live/s${stream}/${uri}`);
          if (seg.status === 200) {
            v.segments++;
            v.bytes += seg.body.length;
          }
        }
      }
      await sleep(1000);
    }
  };
  void loop();
  return v;
}

/** ffmpeg decodes the newest segment of up to 5 streams spread over the run: each must decode without an error. */
async function checkPlayable(port: number, streams: number, token: string): Promise<void> {
  const picks = [...new Set([0, Math.floor(streams / 4), Math.floor(streams / 2), Math.floor((3 * streams) / 4), streams - 1])].filter((i) => i >= 0);
  const results: string[] = [];
  for (const i of picks) {
    const list = await get(port, `/live/s${i}/index.m3u8?token=${token}`);
    const uri = list.body.split('\n').filter((l) => l && !l.startsWith('#')).at(-1);
    if (!uri) {
      results.push(`s${i}: no playlist (${list.status})`);
      continue;
    }
    const res = spawnSync('ffmpeg', ['-hide_banner', '-v', 'error', '-i', `http://127.0.0.1:${port}/live/s${i}/${uri}`, '-f', 'null', '-'], { timeout: 60_000 });
    results.push(`s${i}: ${res.status === 0 && res.stderr.length === 0 ? 'decodes cleanly' : `exit ${res.status}, ${res.stderr.toString().trim().slice(0, 200)}`}`);
  }
  console.log(`playable (ffmpeg -v error on the newest segment): ${results.join('; ')}`);
}

async function main(): Promise<void> {
  const steps = arg('steps', '5,10,20').split(',').map(Number);
  const stepSeconds = Number(arg('step-seconds', '12'));
  const viewersPerStream = Number(arg('viewers', '1'));
  const hlsViewersPerStream = Number(arg('hls-viewers', '1'));
  const segmenter = arg('segmenter', 'inprocess');
  const sample = await ensureSample(SAMPLE);
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', new URL(import.meta.url).pathname, '--server', '--segmenter', segmenter, '--max-flush-lag', arg('max-flush-lag', '0')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const ports = await new Promise<{ http: number; rtmp: number }>((resolve) => child.stdout!.once('data', (d: Buffer) => resolve(JSON.parse(String(d)))));
  const publishers: Publisher[] = [];
  const viewers: { stream: number; bytes: number; status?: number; res?: IncomingMessage }[] = [];
  const hlsViewers: HlsViewer[] = [];
  const hz = 100; // USER_HZ
  console.log(`load average at start: ${loadavg().map((l) => l.toFixed(2)).join(' ')}; sample ${SAMPLE.videoKbps + SAMPLE.audioKbps} kb/s ${SAMPLE.width}x${SAMPLE.height}; HLS segmenter: ${segmenter}; per stream ${viewersPerStream} FLV + ${hlsViewersPerStream} HLS viewers`);
  console.log('streams  healthy  hls-live  flv-ok  hls-ok  engine+ffmpeg cpu%  rss MB  MB/stream  ffmpegs  mem avail MB  load1');
  try {
    for (const n of steps) {
      while (publishers.length < n) {
        const i = publishers.length;
        publishers.push(startProbePublisher(sample, `rtmp://127.0.0.1:${ports.rtmp}/live/k${i}`, `s${i}`));
        for (let v = 0; v < viewersPerStream; v++) {
          const viewer: (typeof viewers)[number] = { stream: i, bytes: 0 };
          viewers.push(viewer);
          // Joins once the stream is live (a 404 before the publish is through, a 503 while the engine is behind: retried).
          const join = (attempt: number) => {
            const req = request({ host: '127.0.0.1', port: ports.http, path: `/live/s${i}.flv?token=t`, agent: false }, (res) => {
              if (res.statusCode !== 200) {
                viewer.status = res.statusCode;
                res.resume();
                if (attempt < 20) setTimeout(() => join(attempt + 1), 500);
                return;
              }
              viewer.status = 200;
              viewer.res = res;
              res.on('data', (d: Buffer) => (viewer.bytes += d.length));
              res.on('error', () => {});
            });
            req.on('error', () => {});
            req.end();
          };
          setTimeout(() => join(0), 1000);
        }
        for (let v = 0; v < hlsViewersPerStream; v++) hlsViewers.push(startHlsViewer(ports.http, i, `h${v}`));
        await sleep(50);
      }
      await sleep(4000);
      // The probe asks as the stream's first HLS viewer (same token and address: a viewer already
      // watching); a token of its own would be a new viewer each step, refused while the engine is behind.
      const probeToken = hlsViewersPerStream > 0 ? 'h0' : 't';
      // Ten at a time with a long timeout: on a loaded machine 100 simultaneous probes time out themselves.
      const probe = () => mapLimit(publishers.length, 10, (i) => get(ports.http, `/live/s${i}/index.m3u8?token=${probeToken}`, 20_000));
      const seq0 = await probe();
      const bytes0 = viewers.map((v) => v.bytes);
      const segs0 = hlsViewers.map((v) => v.segments);
      const u0 = treeUsage(child.pid!);
      const t0 = Date.now();
      await sleep(stepSeconds * 1000);
      const u1 = treeUsage(child.pid!);
      const cpu = ((u1.cpuTicks - u0.cpuTicks) / hz / ((Date.now() - t0) / 1000)) * 100;
      const seq1 = await probe();
      let hlsLive = 0;
      let flvOk = 0;
      let hlsOk = 0;
      let healthy = 0;
      for (let i = 0; i < n; i++) {
        const live = seq1[i]!.status === 200 && segments(seq1[i]!.body) > 0 && lastSegment(seq1[i]!.body) > lastSegment(seq0[i]!.body);
        const flv = viewers.filter((v) => v.stream === i).every((v) => v.bytes - bytes0[viewers.indexOf(v)]! > 100_000);
        const hls = hlsViewers.filter((v) => v.stream === i).every((v) => v.segments > segs0[hlsViewers.indexOf(v)]!);
        if (live) hlsLive++;
        if (flv) flvOk++;
        if (hls) hlsOk++;
        if (live && flv && hls && !publishers[i]!.error) healthy++;
      }
      const mem = memAvailableMb();
      console.log(
        `${String(n).padStart(7)}  ${((healthy / n) * 100).toFixed(0).padStart(6)} %  ${String(hlsLive).padStart(8)}  ${String(flvOk).padStart(6)}  ${String(hlsOk).padStart(6)}  ${cpu.toFixed(0).padStart(18)}  ${(u1.rssKb / 1024).toFixed(0).padStart(6)}  ${(u1.rssKb / 1024 / n).toFixed(1).padStart(9)}  ${String(u1.ffmpegs).padStart(7)}  ${mem.toFixed(0).padStart(12)}  ${loadavg()[0]!.toFixed(2)}`,
      );
      if (healthy < 0.95 * n) {
        const statuses = viewers.filter((v) => v.status !== 200).map((v) => v.status ?? 'none');
        console.log(`stopped: ${n - healthy} of ${n} streams unhealthy${statuses.length ? `; FLV viewers not admitted: ${statuses.join(' ')}` : ''}`);
        break;
      }
      if (mem < 2048) {
        console.log('stopped: less than 2 GB of memory available on the machine');
        break;
      }
    }
    await checkPlayable(ports.http, publishers.length, hlsViewersPerStream > 0 ? 'h0' : 'probe');
  } finally {
    for (const v of hlsViewers) v.stop();
    for (const v of viewers) v.res?.destroy();
    await Promise.all(publishers.map((p) => p.stop()));
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

if (process.argv[2] === '--server') await server();
else await main();
