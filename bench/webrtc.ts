/**
 * `npm run bench:webrtc`: WHEP viewers (werift peers in child processes) of one stream that the
 * stress tool's clock publisher pushes over RTMP into a MediaEngine running in its own process.
 * For each step of N viewers: the share that stays healthy (>= 90 % of the frame rate and bytes
 * received), the server's CPU (media process + its Opus ffmpeg) and RSS per viewer, time to first
 * frame (POST to the first keyframe's first RTP packet; before it the answer and the connected peer,
 * ICE + DTLS, as their own columns), and latency from the publisher's clock SEI
 * (bench/lib/clock-publisher.ts) to the RTP packet's arrival at the peer, sampled after the start-up GOP. That last figure stops at
 * the network: a browser adds its jitter buffer and decode (the room page shows its own reading).
 *
 *   npm run bench:webrtc -- [--viewers 10,25,50] [--seconds 15] [--procs 2] [--profile DIR]
 *   npm run bench:webrtc -- --browser [--seconds 20]   (glass-to-glass in Chromium: bench/webrtc-browser.ts)
 *   npm run bench:webrtc -- --chromium [--viewers 1,5,10] [--seconds 8]   (N Chromium viewers joining: bench/webrtc-chromium.ts)
 *
 * The server is pinned to core 0, the publisher to core 1, the viewers float (taskset, when present).
 * Every step is bounded in viewers and time; the machine may be shared, so `uptime` is printed.
 */
import { execSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { cpus } from 'node:os';
import { ensureSample } from '../stress/publish/sample.js';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseProcStat, type UsageSample } from '../stress/report/server-usage.js';
import { percentile } from '../stress/report/percentile.js';
import { fixed, formatTable } from '../stress/report/table.js';
import { startClockPublisher } from './lib/clock-publisher.js';
import { hasTaskset } from './lib/child.js';
import { startWebrtcBenchServer } from './lib/webrtc-server.js';

/**
 * Lighter than bench:media's 720p 2 Mb/s: the werift viewers decrypt SRTP in JavaScript and are the
 * first thing to run out of CPU on a small machine.
 */
const SAMPLE = { videoKbps: 800, audioKbps: 128, width: 640, height: 360, fps: 30, gopSeconds: 2, seconds: 10 };
const MAX_VIEWERS = 400;
const self = fileURLToPath(import.meta.url);

interface ClientResult { status: number; ttffMs: number; answerMs: number; iceMs: number; connectedMs: number; fps: number; kbps: number; latencies: number[] }
/** The server's side of a viewer's start (WhepPhases in media/servers/whep/conn.ts), ms after the offer arrived. */

/** The clock the probe publisher writes (stress/flv/clock-sei.ts), read from an SEI RTP payload. */
function clockOf(payload: Buffer): number | undefined {
  if (payload.length < 32 || payload[0] !== 0x06 || payload[1] !== 0x05 || payload[2] !== 29) return undefined;
  if (payload.toString('ascii', 3, 19) !== 'onair-clock-v1!!') return undefined;
  const ms = Number(payload.toString('ascii', 19, 32));
  return Number.isFinite(ms) ? ms : undefined;
}

async function serverMain(): Promise<void> {
  const { startEngine, testConfig, testHooks } = await import('../media/engine-test-kit.js');
  const { createLogger } = await import('../core/logging/logger.js');
  // Info logs as JSON lines on stdout: the parent reads the ports line and each viewer's phases
  // ('webrtc viewer started') from them and ignores the rest.
  const log = createLogger({ level: 'info', name: 'bench-media' });
  // --js-dtls: werift's own JavaScript for X25519 and signing (A/B of native-dtls-crypto.ts).
  if (process.argv.includes('--js-dtls')) (await import('../media/servers/whep/native-dtls-crypto.js')).chooseDtlsCrypto(false);
  // WebRTC warmed up at the publish as in production (media.webrtcWarm), unless --no-warm.
  const h = await startEngine({ hooks: testHooks(),
    config: testConfig({ statsInterval: 5000, webrtcWarm: !process.argv.includes('--no-warm') }), log });
  let http = h.httpPort;
  if (process.argv.includes('--web')) {
    // For Chromium viewers (bench/webrtc-chromium.ts): the pages (web/, the room page's player) and
    // the engine's WHEP on one origin, as onair serves them.
    const { createServer } = await import('node:http');
    const { createWebHandler } = await import('../web/serve.js');
    const web = createWebHandler();
    const server = createServer((req, res) => {
      if (!h.engine.handleHttp(req, res)) web(req, res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    http = (server.address() as { port: number }).port;
  }
  process.stdout.write(`${JSON.stringify({ http, rtmp: h.rtmpPort })}\n`);
  process.once('SIGTERM', () => void h.close().then(() => process.exit(0)));
}

async function clientsMain(url: string, n: number, seconds: number): Promise<void> {
  const { whepPlay } = await import('../media/servers/whep/whep-client.js');
  const plays = await Promise.all(Array.from({ length: n }, async () => {
    const latencies: number[] = [];
    // Frame rate and bit rate in the steady state: from 3 s after the first keyframe (the start-up
    // GOP, up to 2 s of frames sent at once, is not counted) to the last frame. Counting the burst
    // over the whole run made a 30 fps stream read 31-50 fps.
    const steady = { frames: 0, bytes: 0, from: -1, to: -1 };
    const startedAt = performance.now();
    const p = await whepPlay(url, { bearer: 'good' }).catch(() => undefined);
    if (p) p.onVideo = (rtp, at) => {
      if (p.stats.firstKeyframeMs < 0 || at - startedAt < p.stats.firstKeyframeMs + 3000) return;
      const c = clockOf(rtp.payload);
      if (c !== undefined && latencies.length < 200) latencies.push(Date.now() - c);
      steady.bytes += rtp.payload.length;
      if (!rtp.header.marker) return;
      if (steady.from < 0) steady.from = at;
      else steady.frames++;
      steady.to = at;
    };
    return { p, latencies, steady };
  }));
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const out: ClientResult[] = plays.map(({ p, latencies, steady }) => {
    const times = { answerMs: p?.stats.answerMs ?? -1, iceMs: p?.stats.iceMs ?? -1, connectedMs: p?.stats.connectedMs ?? -1 };
    if (!p || p.status !== 201 || p.stats.firstKeyframeMs < 0) return { status: p?.status ?? 0, ttffMs: -1, ...times, fps: 0, kbps: 0, latencies };
    const span = steady.to - steady.from;
    return { status: p.status, ttffMs: p.stats.firstKeyframeMs, ...times, fps: span > 0 ? (steady.frames * 1000) / span : 0, kbps: span > 0 ? (steady.bytes * 8) / span : 0, latencies };
  });
  process.stdout.write(`${JSON.stringify(out)}\n`);
  await Promise.all(plays.map(({ p }) => p?.close().catch(() => {})));
  process.exit(0);
}

function runChild(args: string[], cpu: string, timeoutMs: number): Promise<string> {
  const argv = [process.execPath, '--import', 'tsx', self, ...args];
  const [cmd, ...rest] = hasTaskset() ? ['taskset', '-c', cpu, ...argv] : argv;
  return new Promise((resolve) => {
    const c = spawn(cmd!, rest, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const t = setTimeout(() => c.kill('SIGKILL'), timeoutMs);
    c.on('close', () => {
      clearTimeout(t);
      resolve(out);
    });
  });
}

async function main(): Promise<void> {
  const arg = (name: string, def: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1]! : def;
  };
  const steps = arg('viewers', '10,25,50').split(',').map(Number).filter((n) => n > 0 && n <= MAX_VIEWERS);
  const seconds = Math.min(60, Math.max(5, Number(arg('seconds', '15'))));
  const procs = Math.min(8, Math.max(1, Number(arg('procs', '2'))));
  const sample = await ensureSample(SAMPLE);
  // --profile DIR: the media process runs with --cpu-prof (a .cpuprofile in DIR when it exits).
  const profileDir = process.argv.includes('--profile') ? arg('profile', '.') : undefined;
  const serverArgv = [process.execPath, ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : []), '--import', 'tsx', self, '--server', ...(process.argv.includes('--no-warm') ? ['--no-warm'] : [])];
  const { server, ports, phases } = await startWebrtcBenchServer(serverArgv);
  // The media process alone (taskset execs it: same pid). Its Opus ffmpeg, a fixed cost per stream
  // that comes and goes with the viewers, is left out.
  const usage = {
    async sample(): Promise<UsageSample | undefined> {
      const s = parseProcStat(readFileSync(`/proc/${server.pid}/stat`, 'latin1'));
      return s ? { at: performance.now(), cpuSeconds: s.ticks / 100, rssBytes: s.rssPages * 4096 } : undefined;
    },
  };
  const publisher = startClockPublisher(sample, `rtmp://127.0.0.1:${ports.rtmp}/live/X`, 'clock publisher', '1');
  await new Promise((r) => setTimeout(r, 3000));
  const url = `http://127.0.0.1:${ports.http}/live/room1/whep`;
  const idle = await usage.sample();
  const rows: (string | number | undefined)[][] = [];
  const phaseRows: (string | number | undefined)[][] = [];
  const p50p95 = (xs: number[]) => `${fixed(percentile(xs, 50)) ?? '-'} / ${fixed(percentile(xs, 95)) ?? '-'}`;
  const headers = ['N', 'healthy%', 'srv cpu%', 'cpu%/viewer', 'RSS MB', 'RSS MB/viewer', 'answer p50', 'conn p50', 'conn p95', 'TTFF p50', 'TTFF p95', 'lat p50', 'lat p95', 'fps p50', 'kb/s p50', 'refused'];
  console.log(`onair bench:webrtc (werift peers), ${SAMPLE.width}x${SAMPLE.height} ${SAMPLE.fps} fps ${SAMPLE.videoKbps} kb/s + AAC -> Opus, ${seconds} s per step, ${cpus().length} cores`);
  for (const n of steps) {
    phases.length = 0;
    const per = Math.ceil(n / procs);
    const kids: Promise<string>[] = [];
    for (let left = n; left > 0; left -= per) kids.push(runChild(['--clients', url, String(Math.min(per, left)), String(seconds)], '0,1', (seconds + 30) * 1000));
    await new Promise((r) => setTimeout(r, 3000)); // connect storm over: measure the steady state
    const a = await usage.sample();
    await new Promise((r) => setTimeout(r, (seconds - 4) * 1000));
    const b = await usage.sample();
    const results = (await Promise.all(kids)).flatMap((o) => {
      try {
        return JSON.parse(o.trim().split('\n').at(-1) ?? '[]') as ClientResult[];
      } catch {
        return [];
      }
    });
    const healthy = results.filter((r) => r.status === 201 && r.fps >= SAMPLE.fps * 0.9 && r.kbps > 0).length;
    const cpu = a && b ? ((b.cpuSeconds - a.cpuSeconds) / ((b.at - a.at) / 1000)) * 100 : undefined;
    const rss = b ? b.rssBytes / 2 ** 20 : undefined;
    const ttff = results.filter((r) => r.ttffMs >= 0).map((r) => r.ttffMs);
    const lat = results.flatMap((r) => r.latencies);
    const conn = results.filter((r) => r.connectedMs >= 0).map((r) => r.connectedMs);
    rows.push([
      n, fixed((healthy / n) * 100, 1), fixed(cpu, 1), fixed(cpu === undefined ? undefined : cpu / n, 2), fixed(rss),
      fixed(rss !== undefined && idle ? (rss - idle.rssBytes / 2 ** 20) / n : undefined, 2),
      fixed(percentile(results.filter((r) => r.answerMs >= 0).map((r) => r.answerMs), 50)),
      fixed(percentile(conn, 50)), fixed(percentile(conn, 95)),
      fixed(percentile(ttff, 50)), fixed(percentile(ttff, 95)), fixed(percentile(lat, 50)), fixed(percentile(lat, 95)),
      fixed(percentile(results.map((r) => r.fps), 50), 1), fixed(percentile(results.map((r) => r.kbps), 50)),
      results.filter((r) => r.status !== 201).length + (n - results.length),
    ]);
    console.log(formatTable(headers, rows.slice(-1)).split('\n').slice(-1)[0]);
    const ok = (xs: number[]) => xs.filter((x) => x >= 0);
    phaseRows.push([
      n, phases.length, phases.filter((p) => p.earlyDtls > 0).length,
      p50p95(phases.map((p) => p.answered)), p50p95(ok(phases.map((p) => p.ice))), p50p95(ok(phases.map((p) => p.dtls))), p50p95(phases.map((p) => p.firstFrame)),
      p50p95(ok(results.map((r) => r.answerMs))), p50p95(ok(results.map((r) => r.iceMs))), p50p95(conn), p50p95(ttff),
    ]);
    await new Promise((r) => setTimeout(r, 2000)); // peers gone before the next step
  }
  console.log(`\n${formatTable(headers, rows)}`);
  // Where the time to first frame goes, p50 / p95 ms: the server's side from the offer's arrival
  // (answer made, ICE nominated, DTLS done, first frame sent), the viewers' from their POST;
  // 'early DTLS': viewers whose DTLS came before the server's DTLS had started (held for it).
  const phaseHeaders = ['N', 'started', 'early DTLS', 'srv answer', 'srv ICE', 'srv DTLS', 'srv 1st frame', 'cli answer', 'cli ICE', 'cli conn', 'cli TTFF'];
  console.log(`\n${formatTable(phaseHeaders, phaseRows)}`);
  console.log(`server idle (publisher only) RSS ${fixed(idle ? idle.rssBytes / 2 ** 20 : undefined)} MB; uptime: ${execSync('uptime').toString().trim()}`);
  await publisher.stop();
  server.kill('SIGTERM');
  await new Promise((r) => {
    server.once('close', r);
    setTimeout(r, 5000);
  });
  process.exit(0);
}

if (process.argv.includes('--server')) void serverMain();
else if (process.argv.includes('--browser')) void import('./webrtc-browser.js'); // glass-to-glass in Chromium (its own main)
else if (process.argv.includes('--chromium')) void import('./webrtc-chromium.js'); // N Chromium viewers joining (its own main)
else if (process.argv.includes('--clients')) {
  const i = process.argv.indexOf('--clients');
  void clientsMain(process.argv[i + 1]!, Number(process.argv[i + 2]), Number(process.argv[i + 3]));
} else {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
