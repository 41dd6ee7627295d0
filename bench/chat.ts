/**
 * npm run bench:chat — live chat fan-out: one message to N sockets.
 *
 * Each control node runs as a child process (bench/chat-node.ts); the reading node is pinned to core 0; the N client
 * sockets live in this process on the other core and only look for a timestamp in each frame (no
 * JSON.parse per socket), so the server's cost is measured, not the clients'. They are lean RFC 6455
 * clients (bench/lib/ws-lean-reader.ts: a real upgrade, real frames, pongs to the heartbeat; frames
 * parsed from one shared read buffer, the time taken when the frame is complete), ~35 % less of the
 * client core per delivery than the `ws` client (bench/chat-read.ts); the posters stay `ws` clients.
 *   1. idle        N sockets connected and welcomed: RSS per idle socket (after a full GC), measured on
 *                  the node that holds the sockets as (RSS after - RSS before the sockets) / N, the
 *                  node's own base (before any socket, also after a full GC) subtracted on both
 *                  backends; the JS heap used per socket beside it (stderr: heap total, external)
 *   2. burst       one poster sends a message every 200 ms, 20 times: p50/p99 delivery (post -> socket),
 *                  and the node's own time to encode each frame and write it to every socket
 *   3. steady      RATE msg/s for DURATION s: deliveries per server CPU-second
 * Backends: one node with the in-process pub/sub; two nodes on Redis (the poster on node A, the N
 * sockets on node B: the Redis hop included, B's CPU counted).
 * Nodes run with the environment and Node flags of package.json's start:control (MALLOC_ARENA_MAX=2,
 * the V8 heap flags), as production runs them (override MALLOC_ARENA_MAX in the environment). After the rows, one table per socket count puts the one-node and two-node
 * figures of the same run side by side, with the difference (the cost of the Redis hop).
 * Env: ONAIR_BENCH_IDLE_ONLY=1 (the idle phase alone), ONAIR_BENCH_SOCKETS (comma list, default 500,2000), ONAIR_BENCH_RATE (msg/s, default 50),
 * ONAIR_BENCH_DURATION (s, default 5), ONAIR_TEST_REDIS_URL (default redis://127.0.0.1:6379; skipped if down),
 * ONAIR_BENCH_BACKENDS (one,redis), ONAIR_BENCH_BURSTS (default 20), ONAIR_BENCH_TRACE=1 (a line per burst message: where its time went),
 * ONAIR_BENCH_POSTER_SETTLE_MS (default 2500: the posters' join announcements go out before the burst; 0: burst at once),
 * ONAIR_BENCH_POSTER_CORE / ONAIR_BENCH_CLIENT_CORE (default 1, -1: unpinned; the reading node is on core 0),
 * ONAIR_BENCH_READER (lean, default; ws: the reading sockets are `ws` clients, as before 2026-11-28 14:00 UTC),
 * ONAIR_BENCH_WARM=0 (no warm-up of the readers before the burst: warmReaders), ONAIR_BENCH_MARKS=1 (a stderr line per
 * post with this process's performance.now(), to line the burst up with `node --trace-gc --trace-opt --trace-deopt` output),
 * ONAIR_BENCH_SERVER_WARM (default 20: un-counted chat messages after the idle figures' full GC, so the server re-optimises before the burst; 0: none),
 * ONAIR_BENCH_NODE_FLAGS (extra Node flags for the reading node only, e.g. '--trace-opt --trace-deopt').
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpus, loadavg, totalmem } from 'node:os';
import jwt from 'jsonwebtoken';
import WebSocket from 'ws';
import { Redis } from 'ioredis';
import type { TraceOut } from './chat-node.js';
import { connectLean, warmReaderIo } from './lib/ws-lean-reader.js';
import { SEND_TIME_NEEDLE, sendTimeAt } from './lib/send-time.js';
import { textFrame } from '../control/chat/shared-frame.js';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { startScript } from './lib/start-script.js';

const SOCKETS = (process.env.ONAIR_BENCH_SOCKETS ?? '500,2000').split(',').map(Number).filter((n) => n > 0);
const RATE = Number(process.env.ONAIR_BENCH_RATE ?? 50);
const DURATION = Number(process.env.ONAIR_BENCH_DURATION ?? 5);
const REDIS = process.env.ONAIR_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const SECRET = randomBytes(24).toString('base64url');
/** The bench room (bench/chat-node.ts makes it, the same id on every node). */
let ROOM = '';

/**
 * Pins a process, all its threads (V8's and libuv's too, hence -a), to one core. The reading node
 * gets core 0 to itself as in the one-node run; the posting node (ONAIR_BENCH_POSTER_CORE, default
 * 1) and this process's client sockets (ONAIR_BENCH_CLIENT_CORE, default 1) share the other.
 */
function pin(pid: number, core: number): void {
  if (!(core >= 0)) return;
  try { execFileSync('taskset', ['-a', '-pc', String(core), String(pid)], { stdio: 'ignore' }); } catch { /* no taskset */ }
}
const POSTER_CORE = Number(process.env.ONAIR_BENCH_POSTER_CORE ?? 1);
const CLIENT_CORE = Number(process.env.ONAIR_BENCH_CLIENT_CORE ?? 1);
const BURSTS = Number(process.env.ONAIR_BENCH_BURSTS ?? 20);
const BACKENDS = (process.env.ONAIR_BENCH_BACKENDS ?? 'one,redis').split(',');
const TRACE = process.env.ONAIR_BENCH_TRACE === '1';
/** Chat messages posted (not counted) after the idle figures' full GC and before the burst, so node B's re-optimisation happens off the clock (0: none, as before 2026-11-29). */
const SERVER_WARM = Number(process.env.ONAIR_BENCH_SERVER_WARM ?? 20);
const POSTER_SETTLE_MS = Number(process.env.ONAIR_BENCH_POSTER_SETTLE_MS ?? 2500);
/** The reading sockets' client: `lean` (bench/lib/ws-lean-reader.ts, default) or `ws` (the library, as before 2026-11-28 afternoon). */
const READER = process.env.ONAIR_BENCH_READER === 'ws' ? 'ws' : 'lean';

interface NodeStats { cpuMs: number; rss: number; heapUsed: number; heapTotal: number; external: number; sockets: number; frames: number; deliveries: number; writeMs: number; maxWriteMs: number }
interface Node { port: number; child: ChildProcess; stats(gc?: boolean): Promise<NodeStats>; trace(): Promise<TraceOut>; stop(): Promise<void> }

/** start:control's env assignments and Node flags: each node runs as production runs control. */
const startControl = startScript('start:control');

/** ONAIR_BENCH_NODE_FLAGS: extra Node/V8 flags for the READING node only (node B with Redis), e.g. `--trace-opt --trace-deopt` (a diagnosis aid, never a production flag). */
const READ_NODE_FLAGS = (process.env.ONAIR_BENCH_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);

async function startNode(env: Record<string, string>, core: number, extraFlags: string[] = []): Promise<Node> {
  const child = fork(new URL('./chat-node.ts', import.meta.url).pathname, [], {
    // As `npm run start:control` and the Dockerfile run a node (its env and Node flags; MALLOC_ARENA_MAX overridable).
    env: { ...process.env, ...startControl.env, ...(process.env.MALLOC_ARENA_MAX ? { MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX } : {}), ...env, ONAIR_SECRET: SECRET },
    execArgv: [...startControl.flags, ...extraFlags, '--import', 'tsx', '--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  pin(child.pid!, core);
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port: number; roomId: string }) => {
      if (ROOM && ROOM !== m.roomId) reject(new Error(`the nodes made different rooms: ${ROOM}, ${m.roomId}`));
      ROOM = m.roomId;
      resolve(m.port);
    });
    child.once('exit', (code) => reject(new Error(`chat node exited with ${code}`)));
  });
  return {
    port, child,
    stats: (gc = false) => new Promise((resolve) => {
      child.once('message', (m: NodeStats) => resolve(m));
      child.send({ type: gc ? 'gc' : 'stats' });
    }),
    trace: () => new Promise((resolve) => {
      child.once('message', (m: TraceOut) => resolve(m));
      child.send({ type: 'trace' });
    }),
    stop: () => new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.send({ type: 'exit' });
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    }),
  };
}

const token = (id: string) => jwt.sign({ typ: 'access', sub: id, username: `u${id}`, role: 'viewer' }, SECRET, { algorithm: 'HS256', expiresIn: 3600 });

/** What a reading socket needs of its client: closed at the end of a row; fed synthetic frames by warmReaders. */
interface ReadingSocket {
  terminate(): void;
  /** Runs this socket's read path on a text frame's payload as if the server had sent it (nothing goes on the wire). */
  inject(payload: Buffer): void;
}

const WELCOME = Buffer.from('"welcome"', 'latin1');
/**
 * Records every chat message in a frame's payload (its text carries the send time): its delay from the
 * send to `atNow` (performance.now() when the client held the frame), and per message when tracked.
 * The bytes are scanned, not JSON-parsed, so the clients' cost stays small.
 */
function recordDeliveries(p: Buffer, atNow: number, delays: number[], counter: { n: number }, track: boolean): void {
  let at = p.indexOf(SEND_TIME_NEEDLE);
  while (at !== -1) {
    const sent = sendTimeAt(p, at + 10);
    if (sent > 0) {
      counter.n++;
      const delay = performance.timeOrigin + atNow - sent;
      if (delays.length < 2_000_000) delays.push(delay);
      if (perMessage && track) {
        let xs = perMessage.get(sent);
        if (!xs) perMessage.set(sent, (xs = []));
        xs.push(delay);
      }
    }
    at = p.indexOf(SEND_TIME_NEEDLE, at + 10);
  }
}

/** ONAIR_BENCH_WARM=0: no warm-up of the readers (the bench before 2026-11-28 18:00 UTC, for an A/B). */
const WARM = process.env.ONAIR_BENCH_WARM !== '0';

/**
 * Runs the reading sockets' delivery path on synthetic chat frames before the burst, through the
 * same closures the server's frames go through (lean: FrameReader.push -> onMessage ->
 * recordDeliveries; ws: the 'message' listener), and then cuts the delivery arrays back to what they
 * held: nothing is sent to the server, so none of the server's own first-time work is warmed.
 * Why: until the burst the readers have only seen frames without a send time (welcome,
 * announcements), so V8 optimised recordDeliveries and Buffer#indexOf without the branch that
 * records one; the burst's first message deoptimised them and TurboFan recompiled them on the
 * clients' core (~50 ms of compiler threads pinned with the clients, seen with --trace-deopt
 * --trace-opt): the measuring tool's first-time work, timed as message 1's tail (docs/benchmarks.md).
 * The pong and read paths are warmed on a loopback connection of its own (warmReaderIo), for the same reason.
 */
async function warmReaders(sockets: ReadingSocket[], delays: number[], counter: { n: number }): Promise<number> {
  const kept = { delays: delays.length, n: counter.n, perMessage };
  perMessage = new Map();
  const started = performance.now();
  let fed = 0;
  // At least 20,000 deliveries (TurboFan tiers a function up after some thousands of calls), in rounds over the sockets.
  const rounds = Math.max(2, Math.ceil(20_000 / Math.max(1, sockets.length)));
  for (let r = 0; r < rounds; r++) {
    const t = (performance.timeOrigin + performance.now()).toFixed(1);
    const payload = Buffer.from(JSON.stringify([{ v: 1, type: 'chat', id: `0-${r}`, user_id: '9', username: 'u9', text: `t:${t}`, ts: Date.now() }]));
    for (const s of sockets) s.inject(payload);
    fed += sockets.length;
    await wait(0); // let the compiler's jobs land between rounds, as real frames come a turn at a time
  }
  // The heartbeat's pongs (one per socket per round, 15 s apart: a round can fall in the burst) write
  // through Node's net/stream functions the readers have not used since their upgrade, and Node's read
  // callback (onStreamRead) was not yet compiled for 5,000 sockets' reads: both on a loopback pair of its own.
  if (READER === 'lean') await warmReaderIo();
  await wait(200); // the last concurrent recompiles finish off the event loop
  // A full collection of this process now, as the nodes get one before their figures: the 5,000
  // upgrades and the warm-up leave an old generation that otherwise starts an incremental mark in the
  // burst (a Mark-Compact with a 20 ms step on message 1 in one run, --trace-gc).
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  delays.length = kept.delays;
  counter.n = kept.n;
  perMessage = kept.perMessage;
  process.stderr.write(`  readers warmed: ${fed.toLocaleString('en')} synthetic deliveries in ${(performance.now() - started).toFixed(0)} ms (not sent, not counted)\n`);
  return fed;
}

/**
 * A lean reader socket (the default): a real WebSocket client (upgrade, frames from the server, pongs
 * to the heartbeat's pings) whose read path is a frame parser over the socket's bytes
 * (bench/lib/ws-lean-reader.ts); the delay is taken when the client holds the complete frame, and the
 * payload's bytes are scanned for the send times as the `ws` reader scans its text.
 */
function leanReader(port: number, id: string, delays: number[], counter: { n: number }): Promise<ReadingSocket> {
  return new Promise((resolve, reject) => {
    let welcomed = false;
    let lean: ReadingSocket | undefined;
    const onMessage = (p: Buffer, atNow: number) => {
      if (!welcomed && p.indexOf(WELCOME) !== -1) {
        welcomed = true;
        if (lean) resolve(lean);
      }
      recordDeliveries(p, atNow, delays, counter, true);
    };
    connectLean({
      port, path: `/ws?token=${token(id)}&room_id=${ROOM}`, onMessage,
      onClose: (code) => { if (!welcomed) reject(new Error(`closed before welcome: ${code}`)); },
    }).then((s) => {
      const socket: ReadingSocket = { terminate: () => s.terminate(), inject: (payload) => s.inject(textFrame(payload)) };
      lean = socket;
      if (welcomed) resolve(socket);
    }, reject);
  });
}

/**
 * A `ws` client socket: records the delay of every chat frame it gets (the text carries the send
 * time), or, for the posters (`delays` null), records nothing: recordDeliveries sees one delays array
 * and one counter, so V8 does not meet the posters' own (a new array's map) on the burst's first message.
 */
function reader(port: number, id: string, delays: number[] | null, counter: { n: number }, track = true): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?token=${token(id)}&room_id=${ROOM}`, { perMessageDeflate: false });
    let welcomed = false;
    ws.on('message', (data: Buffer) => {
      if (!welcomed && data.indexOf(WELCOME) !== -1) {
        welcomed = true;
        resolve(ws);
      }
      if (delays) recordDeliveries(data, performance.now(), delays, counter, track);
    });
    ws.on('error', (err) => {
      if (!welcomed) reject(err);
    });
    ws.once('close', (code) => {
      if (!welcomed) reject(new Error(`closed before welcome: ${code}`));
    });
  });
}

async function connectMany(port: number, n: number, delays: number[], counter: { n: number }): Promise<ReadingSocket[]> {
  const out: ReadingSocket[] = [];
  // In batches of 50, each socket retried (a loaded machine may answer an upgrade 503 when Redis is slow).
  const one = async (id: string): Promise<ReadingSocket> => {
    for (let attempt = 1; ; attempt++) {
      try {
        if (READER === 'lean') return await leanReader(port, id, delays, counter);
        const ws = await reader(port, id, delays, counter);
        return { terminate: () => ws.terminate(), inject: (payload) => ws.emit('message', payload, false) };
      } catch (err) {
        if (attempt >= 5) throw err;
        await wait(200 * attempt);
      }
    }
  };
  for (let i = 0; i < n; i += 50) {
    out.push(...(await Promise.all(Array.from({ length: Math.min(50, n - i) }, (_, j) => one(String(100_000 + i + j))))));
  }
  return out;
}

/** During the burst: each message's delivery delays by its send time (the trace table). */
let perMessage: Map<number, number[]> | undefined;

const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** This process's event-loop stalls over 10 ms (a 5 ms timer's gaps): the clients' own queueing. */
function stallProbe() {
  const stalls: Array<[number, number]> = [];
  let last = performance.timeOrigin + performance.now();
  const timer = setInterval(() => {
    const t = performance.timeOrigin + performance.now();
    if (t - last > 15) stalls.push([t, t - last - 5]);
    last = t;
  }, 5);
  return { stalls, stop: () => clearInterval(timer) };
}

/**
 * ONAIR_BENCH_TRACE=1: one line per burst message, every time from its post (ms): the posting
 * node's publish (call, and the broker's answer), the reading node's Redis arrival, handler and
 * flush (start, end, and the flush's CPU time: wall well above CPU means the node waited for its
 * core), then what the clients saw (first, p50, p99, last socket); and what else ran meanwhile.
 */
function printTrace(name: string, n: number, per: Map<number, number[]>, read: TraceOut, post: TraceOut, clientStalls: Array<[number, number]>, clientCpuMs: number): void {
  const f = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(1));
  const lines = [`trace ${name}, ${n} sockets (ms after the post; client CPU over the burst ${clientCpuMs.toFixed(0)} ms):`,
    '  msg | A publish call | A publish done | B redis recv | B handler | B flush start | B flush end | B flush CPU | clients first | p50 | p99 | last | meanwhile'];
  const sums: number[][] = [];
  [...per.keys()].sort((a, b) => a - b).forEach((t, i) => {
    const xs = [...per.get(t)!].sort((a, b) => a - b);
    const r = read.messages[String(t)] ?? {};
    const p = post.messages[String(t)] ?? {};
    const last = t + xs[xs.length - 1]!;
    const overlaps = (a: number, b: number) => a < last && b > t;
    const meanwhile = [
      ...read.spans.filter(([, a, b]) => overlaps(a, b)).map(([k, a, b]) => `B ${k} ${f(a - t)}..${f(b - t)}`),
      ...(post === read ? [] : post.spans.filter(([, a, b]) => overlaps(a, b)).map(([k, a, b]) => `A ${k} ${f(a - t)}..${f(b - t)}`)),
      ...read.stalls.filter(([at, gap]) => overlaps(at - gap, at)).map(([at, gap, run, wait, cpu]) => `B stall ${f(gap)} to ${f(at - t)} (main run ${f(run)} wait ${f(wait)}, process cpu ${f(cpu)})`),
      ...(post === read ? [] : post.stalls.filter(([at, gap]) => overlaps(at - gap, at)).map(([at, gap, run, wait, cpu]) => `A stall ${f(gap)} to ${f(at - t)} (main run ${f(run)} wait ${f(wait)}, process cpu ${f(cpu)})`)),
      ...clientStalls.filter(([at, gap]) => overlaps(at - gap, at)).map(([at, gap]) => `clients stall ${f(gap)} to ${f(at - t)}`),
    ];
    const row = [(p.publishCall ?? NaN) - t, (p.publishDone ?? NaN) - t, (r.redisRecv ?? NaN) - t, (r.handler ?? NaN) - t, (r.flushStart ?? NaN) - t, (r.flushEnd ?? NaN) - t, r.flushCpuMs ?? NaN,
      xs[0]!, pct(xs, 50), pct(xs, 99), xs[xs.length - 1]!];
    sums.push(row);
    lines.push(`  ${String(i + 1).padStart(3)} | ${row.map(f).join(' | ')} | ${meanwhile.join('; ')}`);
  });
  if (sums.length > 0) {
    const med = sums[0]!.map((_, c) => pct(sums.map((r) => r[c]!).filter(Number.isFinite), 50));
    const max = sums[0]!.map((_, c) => Math.max(...sums.map((r) => r[c]!).filter(Number.isFinite)));
    lines.push(`  med | ${med.map(f).join(' | ')} |`, `  max | ${max.map(f).join(' | ')} |`);
  }
  process.stderr.write(`${lines.join('\n')}\n`);
}

interface Row { backend: string; sockets: string; p50: string; p99: string; write: string; perCpuS: string; serverCpu: string; rssPerSocket: string; note: string }
/** The same figures as numbers, for the one-node vs two-node comparison. */
interface Figures { p50: number; p99: number; write: number; perCpuS: number; rssKb: number; heapKb: number; baseMb: number; steadyP99: number }
const figures = new Map<string, Figures>();

async function benchOne(name: string, n: number, nodes: { post: Node; read: Node }): Promise<Row> {
  const delays: number[] = [];
  const counter = { n: 0 };
  const before = await nodes.read.stats(true);
  const sockets = await connectMany(nodes.read.port, n, delays, counter);
  await wait(1500); // joins announced, things settle
  const idle = await nodes.read.stats(true);
  const rssPerSocket = (idle.rss - before.rss) / n;
  const kb = (k: 'heapUsed' | 'heapTotal' | 'external') => ((idle[k] - before[k]) / n / 1024).toFixed(1);
  const fig: Figures = { p50: NaN, p99: NaN, write: NaN, perCpuS: NaN, rssKb: rssPerSocket / 1024, heapKb: (idle.heapUsed - before.heapUsed) / n / 1024, baseMb: before.rss / 2 ** 20, steadyP99: NaN };
  figures.set(`${name}|${n}`, fig);
  process.stderr.write(`  ${name}: base RSS ${(before.rss / 2 ** 20).toFixed(1)} MB, per idle socket: RSS ${(rssPerSocket / 1024).toFixed(1)} KB, heap used ${kb('heapUsed')} KB, heap total ${kb('heapTotal')} KB, external ${kb('external')} KB\n`);
  if (process.env.ONAIR_BENCH_IDLE_ONLY === '1') {
    for (const ws of sockets) ws.terminate();
    await wait(500);
    return { backend: name, sockets: String(n), p50: '-', p99: '-', write: '-', perCpuS: '-', serverCpu: '-', rssPerSocket: `${(rssPerSocket / 1024).toFixed(1)} KB`, note: 'idle only' };
  }
  // Posters in turn: a client may send at most 50 frames a second (chat-conn.ts), and chat users are rate limited anyway.
  const posters = await Promise.all(Array.from({ length: Math.max(1, Math.ceil(RATE / 10)) }, (_, i) => reader(nodes.post.port, String(9 + i), null, { n: 0 }, false)));
  // The posters' entry is announced to the whole room (audience_join + online: the first at once, the
  // rest merged at the end of the announcer's 1 s window, control/chat/announcer.ts), and each such frame
  // is a full write to the N sockets (~80-100 ms at 5,000 here): left in the burst, they land on
  // messages 1 and ~6 and set the p99 (the unexplained pre-message stalls of the 2026-11-28 trace).
  // The readers' own joins are waited out above; the posters' are waited out here.
  // ONAIR_BENCH_POSTER_SETTLE_MS=0: burst at once. Since the fan-out holds announcements for the room's
  // next frame (control/chat/room-fanout.ts, ANNOUNCEMENT_DEFER_MS), they ride in the burst's chat frames
  // (the trace shows `flush audience_join+online+chat`), no flush of their own.
  await wait(POSTER_SETTLE_MS);
  let turn = 0;
  const post = () => posters[turn++ % posters.length]!.send(JSON.stringify({ v: 1, type: 'chat', text: `t:${(performance.timeOrigin + performance.now()).toFixed(1)}` }));

  // The server's hot path re-optimised off the clock. The full collection taken for the idle figures
  // (stats(true) above) clears the maps that only short-lived objects had (envelopes, frames, Redis
  // replies, stream write requests): every optimised function that embedded one is thrown away ("weak
  // objects", --trace-deopt: ~40 functions on node B, RoomFanout.flush among them), and V8 re-optimised
  // them one by one over the burst's messages 1-18 on the compiler thread, pinned to the node's one core
  // with the main thread (flush alone took 46-82 ms of TurboFan time, LOADED): the "other-thread CPU" of
  // the 2026-11-29 trace. A server that has been taking chat is past that; so is the burst after this.
  if (SERVER_WARM > 0) {
    const kept = { delays: delays.length, n: counter.n, perMessage };
    perMessage = undefined;
    for (let i = 0; i < SERVER_WARM; i++) {
      post();
      await wait(200);
    }
    await wait(500);
    delays.length = kept.delays;
    counter.n = kept.n;
    perMessage = kept.perMessage;
    process.stderr.write(`  server warmed: ${SERVER_WARM} chat messages posted before the burst, 200 ms apart (not counted)\n`);
  }
  // The readers' own first-time work off the clock (warmReaders: nothing reaches the server).
  if (WARM) await warmReaders(sockets, delays, counter);
  // Burst: one message at a time, each to every socket.
  const b0 = await nodes.read.stats();
  if (TRACE) {
    await nodes.read.trace();
    if (nodes.post !== nodes.read) await nodes.post.trace();
  }
  perMessage = new Map();
  const stalls = stallProbe();
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  const clientCpu0 = process.cpuUsage();
  for (let i = 0; i < BURSTS; i++) {
    if (process.env.ONAIR_BENCH_MARKS === '1') process.stderr.write(`MARK post ${i + 1} at ${performance.now().toFixed(1)}\n`);
    post();
    await wait(200);
  }
  await wait(1000);
  if (process.env.ONAIR_BENCH_MARKS === '1') process.stderr.write(`MARK burst end at ${performance.now().toFixed(1)}\n`);
  const clientCpu = process.cpuUsage(clientCpu0);
  stalls.stop();
  loopDelay.disable();
  const burst = delays.splice(0);
  const clientCpuMs = (clientCpu.user + clientCpu.system) / 1000;
  process.stderr.write(`  ${name}: clients (${READER} reader) ${clientCpuMs.toFixed(0)} ms CPU over the burst, ${((clientCpuMs * 1000) / Math.max(1, burst.length)).toFixed(1)} us per delivery (user ${(clientCpu.user / Math.max(1, burst.length)).toFixed(1)}, system ${(clientCpu.system / Math.max(1, burst.length)).toFixed(1)}; ${burst.length} deliveries); event loop delay p99 ${(loopDelay.percentile(99) / 1e6).toFixed(1)} ms, max ${(loopDelay.max / 1e6).toFixed(1)} ms${WARM ? '' : '; readers NOT warmed (ONAIR_BENCH_WARM=0)'}\n`);
  const b1 = await nodes.read.stats();
  // Each message's own p99 and last socket, traced or not (each message is 1/BURSTS of the samples:
  // one late message sets the burst's p99, and this line says which one).
  const perMsg = [...perMessage.keys()].sort((a, b) => a - b).map((t) => {
    const xs = [...perMessage!.get(t)!].sort((a, b) => a - b);
    return `${pct(xs, 99).toFixed(0)}/${xs[xs.length - 1]!.toFixed(0)}`;
  });
  process.stderr.write(`  ${name}: per message p99/last socket (ms), in order: ${perMsg.join(' ')}\n`);
  if (TRACE) {
    const readTrace = await nodes.read.trace();
    const postTrace = nodes.post === nodes.read ? readTrace : await nodes.post.trace();
    printTrace(name, n, perMessage, readTrace, postTrace, stalls.stalls, clientCpuMs);
  }
  perMessage = undefined;
  // The server's own share of the latency: encoding a frame and writing it to every socket (not the queueing on a loaded machine).
  const writePerFrame = (b1.writeMs - b0.writeMs) / Math.max(1, b1.frames - b0.frames);
  // Steady: RATE msg/s.
  const c0 = await nodes.read.stats();
  const n0 = counter.n;
  const interval = 1000 / RATE;
  const end = Date.now() + DURATION * 1000;
  let next = Date.now();
  while (Date.now() < end) {
    post();
    next += interval;
    await wait(Math.max(0, next - Date.now()));
  }
  await wait(1000);
  const c1 = await nodes.read.stats();
  const delivered = counter.n - n0;
  const cpuS = (c1.cpuMs - c0.cpuMs) / 1000;
  const steadyP99 = pct(delays, 99);
  for (const ws of [...sockets, ...posters]) ws.terminate();
  await wait(500);
  Object.assign(fig, { p50: pct(burst, 50), p99: pct(burst, 99), write: writePerFrame, perCpuS: delivered / Math.max(cpuS, 0.001), steadyP99 });
  return {
    backend: name, sockets: String(n),
    p50: `${pct(burst, 50).toFixed(1)} ms`, p99: `${pct(burst, 99).toFixed(1)} ms`,
    write: `${writePerFrame.toFixed(1)} ms (max ${b1.maxWriteMs.toFixed(0)})`,
    perCpuS: `${Math.round(delivered / Math.max(cpuS, 0.001)).toLocaleString('en')}`,
    serverCpu: `${((cpuS / (DURATION + 1)) * 100).toFixed(0)} %`,
    rssPerSocket: `${(rssPerSocket / 1024).toFixed(1)} KB`,
    note: `${delivered.toLocaleString('en')} deliveries, ${c1.frames - c0.frames} frames, steady p99 ${steadyP99.toFixed(0)} ms`,
  };
}

const rows: Row[] = [];
const ONE = '1 node (in-process)';
const TWO = '2 nodes (Redis), A -> B';
async function withRedis(): Promise<boolean> {
  const r = new Redis(REDIS, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 1000 });
  try {
    await r.connect();
    await r.ping();
    return true;
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

pin(process.pid, CLIENT_CORE);
for (const n of SOCKETS) {
  if (BACKENDS.includes('one')) {
    process.stderr.write(`one node, in-process pub/sub, ${n} sockets ...\n`);
    const node = await startNode({}, 0, READ_NODE_FLAGS);
    try {
      rows.push(await benchOne(ONE, n, { post: node, read: node }));
    } finally {
      await node.stop();
    }
  }
  if (!BACKENDS.includes('redis')) continue;
  if (await withRedis()) {
    process.stderr.write(`two nodes on Redis, ${n} sockets ...\n`);
    const prefix = `onair-bench-chat:${randomBytes(4).toString('hex')}:`;
    const env = { ONAIR_REDIS_URL: REDIS, ONAIR_REDIS_PREFIX: prefix };
    const a = await startNode(env, POSTER_CORE);
    const b = await startNode(env, 0, READ_NODE_FLAGS);
    try {
      rows.push(await benchOne(TWO, n, { post: a, read: b }));
    } finally {
      await a.stop();
      await b.stop();
      const r = new Redis(REDIS);
      let cursor = '0';
      do {
        const [nextCursor, keys] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
        if (keys.length) await r.del(...keys);
        cursor = nextCursor;
      } while (cursor !== '0');
      r.disconnect();
    }
  } else {
    rows.push({ backend: '2 nodes (Redis)', sockets: String(n), p50: '-', p99: '-', write: '-', perCpuS: '-', serverCpu: '-', rssPerSocket: '-', note: `skipped: no Redis at ${REDIS}` });
  }
}

const header: Row = { backend: 'backend', sockets: 'sockets', p50: 'p50 (burst)', p99: 'p99 (burst)', write: 'server write/frame (burst)', perCpuS: 'deliveries/CPU-s', serverCpu: 'server CPU', rssPerSocket: 'RSS/idle socket', note: `steady ${RATE} msg/s for ${DURATION} s` };
const cols = Object.keys(header) as Array<keyof Row>;
const widths = cols.map((k) => Math.max(...[header, ...rows].map((r) => r[k].length)));
const line = (r: Row) => `| ${cols.map((k, i) => r[k].padEnd(widths[i]!)).join(' | ')} |`;
console.log([line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n'));
// One node and two nodes side by side (the cost of the Redis hop), per socket count.
for (const n of SOCKETS) {
  const one = figures.get(`${ONE}|${n}`);
  const two = figures.get(`${TWO}|${n}`);
  if (!one || !two) continue;
  const fmt = (v: number, unit: string, digits = 1) => (Number.isFinite(v) ? `${v.toFixed(digits)}${unit}` : '-');
  const cpuFmt = (v: number) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en') : '-');
  const diff = (a: number, b: number, unit: string, digits = 1) => (Number.isFinite(a) && Number.isFinite(b) ? `${b - a >= 0 ? '+' : ''}${(b - a).toFixed(digits)}${unit}` : '-');
  const table: Array<[string, string, string, string]> = [
    [`${n} sockets`, '1 node (in-process)', '2 nodes (Redis), A -> B', 'the hop'],
    ['p50 (burst)', fmt(one.p50, ' ms'), fmt(two.p50, ' ms'), diff(one.p50, two.p50, ' ms')],
    ['p99 (burst)', fmt(one.p99, ' ms'), fmt(two.p99, ' ms'), diff(one.p99, two.p99, ' ms')],
    ['server write/frame', fmt(one.write, ' ms'), fmt(two.write, ' ms'), diff(one.write, two.write, ' ms')],
    ['steady p99', fmt(one.steadyP99, ' ms', 0), fmt(two.steadyP99, ' ms', 0), diff(one.steadyP99, two.steadyP99, ' ms', 0)],
    ['deliveries/CPU-s', cpuFmt(one.perCpuS), cpuFmt(two.perCpuS), Number.isFinite(one.perCpuS) && Number.isFinite(two.perCpuS) ? `${((two.perCpuS / one.perCpuS - 1) * 100).toFixed(0)} %` : '-'],
    ['RSS/idle socket (after the node\'s own base)', fmt(one.rssKb, ' KB'), fmt(two.rssKb, ' KB'), diff(one.rssKb, two.rssKb, ' KB')],
    ['JS heap used/idle socket', fmt(one.heapKb, ' KB'), fmt(two.heapKb, ' KB'), diff(one.heapKb, two.heapKb, ' KB')],
    ['node base RSS before sockets', fmt(one.baseMb, ' MB'), fmt(two.baseMb, ' MB'), diff(one.baseMb, two.baseMb, ' MB')],
  ];
  const w = [0, 1, 2, 3].map((i) => Math.max(...table.map((r) => r[i]!.length)));
  const out = (r: string[]) => `| ${r.map((c, i) => c.padEnd(w[i]!)).join(' | ')} |`;
  console.log(['', out(table[0]!), `|${w.map((x) => '-'.repeat(x + 2)).join('|')}|`, ...table.slice(1).map(out)].join('\n'));
}
console.log(`\nnodes: ${Object.entries(startControl.env).map(([k, v]) => `${k}=${v}`).join(' ')} node ${startControl.flags.join(' ')}`);
console.log(`${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
process.exit(0);
