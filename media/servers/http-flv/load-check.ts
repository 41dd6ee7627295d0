/**
 * A quick local load check for HTTP-FLV (the real benchmark lives in bench/ and stress/):
 *   node --import tsx media/servers/http-flv/load-check.ts [viewers=1000] [seconds=20] [clientProcs=4]
 * Runs the engine in a child process pinned to CPU 0, publishes a pre-encoded 720p30 ~2.15 Mb/s
 * H.264/AAC file with ffmpeg -c copy, opens the viewers from client processes pinned to CPU 1,
 * and prints the engine's CPU (% of one core), RSS, healthy viewers and time to first frame.
 * Env: LOAD_NODE_FLAGS (engine node flags, default --max-semi-space-size=8), LOAD_FLUSH_MS,
 * LOAD_CLIENT_CPUS (default 1), LOAD_VERBOSE=1 (engine memory every 4 s), LOAD_PROF=dir (CPU profile).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';

const self = new URL(import.meta.url).pathname;
const mode = process.argv[2];
if (mode === '--server') await server();
else if (mode === '--clients') await clients(Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5]));
else await main();

async function server(): Promise<void> {
  const { startEngine, testHooks } = await import('../../engine-test-kit.js');
  const flushIntervalMs = process.env.LOAD_FLUSH_MS ? Number(process.env.LOAD_FLUSH_MS) : undefined;
  const h = await startEngine({ hooks: testHooks(), tuning: flushIntervalMs === undefined ? {} : { flushIntervalMs } });
  process.stdout.write(JSON.stringify({ http: h.httpPort, rtmp: h.rtmpPort }) + '\n');
  process.on('SIGTERM', () => process.exit(0)); // lets --cpu-prof write its profile
  if (process.env.LOAD_SNAPSHOT) {
    const v8 = await import('node:v8');
    setTimeout(() => process.stderr.write(`snapshot: ${v8.writeHeapSnapshot(process.env.LOAD_SNAPSHOT)}\n`), Number(process.env.LOAD_SNAPSHOT_AT ?? 12_000)).unref();
  }
  if (process.env.LOAD_VERBOSE) {
    setInterval(() => {
      const m = process.memoryUsage();
      const mb = (n: number) => Math.round(n / 1048576);
      process.stderr.write(`server: rss ${mb(m.rss)} heap ${mb(m.heapUsed)}/${mb(m.heapTotal)} external ${mb(m.external)} arrayBuffers ${mb(m.arrayBuffers)} viewers ${h.engine.viewers.size} skips ${h.engine.viewers.counters.skips} evictions ${h.engine.viewers.counters.evictions}\n`);
    }, 4000).unref();
  }
}

/** N viewers; after warm-up, counts bytes for `seconds`; prints per-viewer bytes and TTFFs. */
async function clients(port: number, n: number, seconds: number): Promise<void> {
  const bytes = new Float64Array(n);
  const ttff: number[] = [];
  const sockets = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const s = connect(port, '127.0.0.1');
    s.on('error', () => {});
    s.write('GET /live/room1.flv?token=good HTTP/1.1\r\nHost: x\r\n\r\n');
    let first = true;
    s.on('data', (d: Buffer) => {
      // the start-up burst (headers + cache with the keyframe) is the first large read
      if (first && bytes[i]! + d.length > 20_000) {
        first = false;
        ttff.push(performance.now() - t0);
      }
      bytes[i]! += d.length;
    });
    sockets.push(s);
    if (i % 20 === 19) await new Promise((r) => setTimeout(r, 10));
  }
  await new Promise((r) => setTimeout(r, 2000));
  const start = Float64Array.from(bytes);
  process.stdout.write('ready\n');
  await new Promise((r) => setTimeout(r, seconds * 1000));
  process.stdout.write(JSON.stringify({ got: Array.from(bytes, (b, i) => b - start[i]!), ttff }) + '\n');
  for (const s of sockets) s.destroy();
  process.exit(0);
}

/** Time from connect to the first complete video keyframe tag, from a lightly loaded process. */
function probeTtff(port: number): Promise<number> {
  return import('../../protocols/flv/flv-parser.js').then(({ FlvParser }) => new Promise<number>((resolve) => {
    const t0 = performance.now();
    const s = connect(port, '127.0.0.1');
    const parser = new FlvParser();
    let head = true;
    s.write('GET /live/room1.flv?token=good HTTP/1.1\r\nHost: x\r\n\r\n');
    s.on('data', (d: Buffer) => {
      if (head) {
        const i = d.indexOf('\r\n\r\n');
        if (i < 0) return;
        d = d.subarray(i + 4);
        head = false;
      }
      for (const t of parser.push(d)) {
        if (t.type === 9 && t.body[0] === 0x17 && t.body[1] === 1) {
          s.destroy();
          resolve(performance.now() - t0);
          return;
        }
      }
    });
  }));
}

function writeSyscalls(pid: number): number {
  return Number(/syscw:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))![1]);
}

function cpuTicks(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(f[11]) + Number(f[12]);
}
function rssMb(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}
function lines(child: ChildProcess): AsyncIterator<string> {
  let buf = '';
  const queue: string[] = [];
  let wake: (() => void) | undefined;
  child.stdout!.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      queue.push(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
    wake?.();
  });
  return {
    async next() {
      while (!queue.length) await new Promise<void>((r) => (wake = r));
      return { value: queue.shift()!, done: false };
    },
  };
}

async function main(): Promise<void> {
  const N = Number(process.argv[2] ?? 1000);
  const SECONDS = Number(process.argv[3] ?? 20);
  const PROCS = Number(process.argv[4] ?? 4);
  const SRC = '/tmp/onair-load-720p.flv';
  if (!existsSync(SRC)) {
    spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30', '-f', 'lavfi', '-i', 'sine',
      '-t', '40', '-c:v', 'libx264', '-preset', 'veryfast', '-b:v', '2000k', '-maxrate', '2000k', '-bufsize', '2000k', '-g', '60', '-pix_fmt', 'yuv420p',
      '-c:a', 'aac', '-b:a', '128k', SRC], { stdio: 'inherit' });
  }
  const prof = process.env.LOAD_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.LOAD_PROF}`] : [];
  const flags = (process.env.LOAD_NODE_FLAGS ?? '--max-semi-space-size=8').split(' ').filter(Boolean);
  const srv = spawn('taskset', ['-c', '0', process.execPath, ...flags, ...prof, '--import', 'tsx', self, '--server'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const ports = JSON.parse((await lines(srv).next()).value) as { http: number; rtmp: number };
  const ff = spawn('taskset', ['-c', '1', 'ffmpeg', '-hide_banner', '-loglevel', 'error', '-re', '-stream_loop', '-1', '-i', SRC, '-c', 'copy', '-f', 'flv', `rtmp://127.0.0.1:${ports.rtmp}/live/X`], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 3000));
  const rssIdle = rssMb(srv.pid!);
  const procs = Array.from({ length: PROCS }, () =>
    spawn('taskset', ['-c', process.env.LOAD_CLIENT_CPUS ?? '1', process.execPath, '--import', 'tsx', self, '--clients', String(ports.http), String(Math.ceil(N / PROCS)), String(SECONDS)], { stdio: ['ignore', 'pipe', 'inherit'] }));
  const outs = procs.map(lines);
  for (const o of outs) await o.next(); // 'ready'
  const t0 = cpuTicks(srv.pid!);
  const sys0 = writeSyscalls(srv.pid!);
  const w0 = Date.now();
  const probes: number[] = [];
  for (let i = 0; i < 20; i++) probes.push(await probeTtff(ports.http));
  probes.sort((a, b) => a - b);
  const results = await Promise.all(outs.map(async (o) => JSON.parse((await o.next()).value) as { got: number[]; ttff: number[] }));
  const cpu = (cpuTicks(srv.pid!) - t0) / 100 / ((Date.now() - w0) / 1000);
  const writesPerViewerSec = (writeSyscalls(srv.pid!) - sys0) / ((Date.now() - w0) / 1000) / N;
  const rss = rssMb(srv.pid!);
  const got = results.flatMap((r) => r.got);
  const ttff = results.flatMap((r) => r.ttff).sort((a, b) => a - b);
  const expected = (2.15e6 / 8) * SECONDS * 0.9;
  console.log(JSON.stringify({
    viewers: got.length, seconds: SECONDS, healthy: got.filter((b) => b >= expected).length,
    avgMbpsPerViewer: +((got.reduce((a, b) => a + b, 0) / got.length / SECONDS) * 8 / 1e6).toFixed(2),
    cpuPctOfCore: +(cpu * 100).toFixed(1), cpuPctPer100: +((cpu * 100 * 100) / got.length).toFixed(2),
    writesPerViewerSec: +writesPerViewerSec.toFixed(1), rssMb: Math.round(rss), rssIdleMb: Math.round(rssIdle),
    probeTtffMedianMs: +probes[10]!.toFixed(1), probeTtffMaxMs: +probes[19]!.toFixed(1),
    ttffMedianMs: +(ttff[Math.floor(ttff.length / 2)] ?? -1).toFixed(1), ttffP95Ms: +(ttff[Math.floor(ttff.length * 0.95)] ?? -1).toFixed(1),
  }));
  ff.kill('SIGKILL');
  srv.kill('SIGTERM');
  await new Promise((r) => srv.once('exit', r));
  process.exit(0);
}
