/**
 * One control node for `npm run bench:chat`, run as a child process (pinned to one core by the
 * parent) so its CPU and memory are its own. Env: ONAIR_REDIS_URL / ONAIR_REDIS_PREFIX (Redis
 * cache and pub/sub; in-process when unset), ONAIR_SECRET. Answers IPC 'stats' with its CPU time,
 * RSS and open chat sockets; 'gc' runs a full collection first (started with --expose-gc).
 */
import { createServer } from 'node:http';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../core/config/load.js';
import { createLogger } from '../core/logging/logger.js';
import { openPorts } from '../core/ports.js';
import { createControl } from '../control/main.js';
import { unconfiguredMediaControl } from '../control/media-control-stub.js';
import type { Delivery, PubSubHandler } from '../core/pubsub/pubsub.port.js';

const config = loadConfig({
  ...process.env,
  ONAIR_DATA_DIR: mkdtempSync(join(tmpdir(), 'onair-bench-chat-')),
  ONAIR_DATABASE_URL: 'sqlite::memory:',
  ONAIR_LOG_LEVEL: 'silent',
  ONAIR_RATE_LIMITS: 'false',
  ONAIR_CHAT_RATE: 'off',
  ONAIR_CHAT_MAX_BUFFERED: String(8 * 1024 * 1024),
});
const log = createLogger({ level: 'error' }); // errors only: a refused or failed socket shows why
const ports = await openPorts(config, log);
const control = createControl({ config, log, ...ports, media: unconfiguredMediaControl(log) });
await control.bootstrap();
const trace = installTrace();
// The room the benchmark's sockets join (a JWT on /ws needs an existing room): every node makes the
// same first room in its own in-memory database, so its id is the same on every node.
const anchor = await control.auth.register({ username: 'bench_anchor', password: 'bench anchor pass', role: 'anchor' });
const { room } = await control.rooms.create({ id: anchor.id, username: anchor.username, role: 'anchor' }, { title: 'bench' });
const server = createServer((req, res) => control.handle(req, res));
server.on('upgrade', (req, socket: Duplex, head: Buffer) => {
  if (!control.handleUpgrade(req, socket, head)) socket.destroy();
});
server.listen(0, '127.0.0.1', () => {
  process.send!({ type: 'ready', port: (server.address() as AddressInfo).port, roomId: String(room.id) });
});
function memory() {
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external };
}
process.on('message', (m: { type: string }) => {
  if (m.type === 'gc' || m.type === 'stats') {
    if (m.type === 'gc') (globalThis as { gc?: () => void }).gc?.();
    const cpu = process.cpuUsage();
    process.send!({
      type: 'stats', cpuMs: (cpu.user + cpu.system) / 1000, ...memory(),
      sockets: control.chat.chat.socketCount, frames: control.chat.chat.fanout.counters.frames, deliveries: control.chat.chat.fanout.counters.deliveries,
      writeMs: control.chat.chat.fanout.counters.writeMs, maxWriteMs: control.chat.chat.fanout.counters.maxWriteMs,
    });
  } else if (m.type === 'trace') {
    process.send!({ type: 'trace', ...trace.take() });
  } else if (m.type === 'exit') {
    control.chat.gateway.abort();
    server.closeAllConnections();
    void control.close({ deadline: Date.now() + 2000 }).then(() => ports.close()).finally(() => process.exit(0));
  }
});

/** When (epoch ms, fractional: comparable across the bench's processes) something happened to a bench message. */
function now(): number {
  return performance.timeOrigin + performance.now();
}
/** The send time a bench message carries in its text ("t:<epoch ms>"), or NaN. */
function sentAt(text: unknown): number {
  return typeof text === 'string' && text.startsWith('t:') ? Number(text.slice(2)) : NaN;
}
function sentInWire(wire: string): number {
  const at = wire.indexOf('"text":"t:');
  return at === -1 ? NaN : Number(wire.slice(at + 10, wire.indexOf('"', at + 10)));
}

export interface TraceOut {
  /** Per bench message (keyed by its send time): the stages this node saw, epoch ms. */
  messages: Record<string, { publishCall?: number; publishDone?: number; redisRecv?: number; handler?: number; flushStart?: number; flushEnd?: number; flushCpuMs?: number; sockets?: number }>;
  /** Periodic work of this node that may delay a frame: [name, start, end] (epoch ms). */
  spans: Array<[string, number, number]>;
  /**
   * Event-loop stalls over 10 ms seen by a 5 ms probe timer: [at (end of stall), gap ms, then during
   * the gap: the main thread's time on a core, its time runnable but waiting for one (both from
   * /proc/self/task/<pid>/schedstat, Linux), and the whole process's CPU (all threads: V8's GC and
   * compiler helpers too, which share the pinned core)]. run ~ gap: this thread's own work (JS or a
   * GC pause); wait ~ gap: the core was taken (another process, or this node's other threads).
   */
  stalls: Array<[number, number, number?, number?, number?]>;
}

/**
 * Timestamps along a bench message's path on this node (stderr-free, read over IPC with 'trace'):
 * the publish on the posting node, the Redis arrival and the handler on the reading node, and the
 * fan-out's flush (start, end, CPU time, so wall >> CPU means the node waited for the core); plus
 * this node's heartbeat rounds, sweeps, message-table flushes and event-loop stalls. Wraps the
 * instances from outside: nothing in control/ or core/ knows about it.
 */
function installTrace() {
  let out: TraceOut = { messages: {}, spans: [], stalls: [] };
  const msg = (t: number) => (out.messages[String(t)] ??= {});
  const pubsub = ports.pubsub;
  const publishKept = pubsub.publishKept.bind(pubsub);
  pubsub.publishKept = async (channel, message) => {
    const t = sentAt((message as { text?: unknown }).text);
    if (Number.isFinite(t)) msg(t).publishCall = now();
    const id = await publishKept(channel, message);
    if (Number.isFinite(t)) msg(t).publishDone = now();
    return id;
  };
  const subscribe = pubsub.subscribe.bind(pubsub);
  pubsub.subscribe = (channel: string, handler: PubSubHandler) => subscribe(channel, (d: Delivery) => {
    const t = sentAt((d.message as { text?: unknown } | null)?.text);
    if (Number.isFinite(t)) msg(t).handler ??= now();
    return handler(d);
  });
  // The raw arrival on the Redis subscriber connection, before the port decodes it.
  const sub = (pubsub as unknown as { sub?: { prependListener(e: string, f: (c: string, w: string) => void): void } }).sub;
  sub?.prependListener('message', (_c: string, wire: string) => {
    const t = sentInWire(wire);
    if (Number.isFinite(t)) msg(t).redisRecv ??= now();
  });
  const fanout = control.chat.chat.fanout as unknown as { flush(roomId: string, room: { pending: Array<{ text?: unknown; type?: unknown }>; sockets: Set<unknown> }): void };
  const flush = fanout.flush.bind(fanout);
  fanout.flush = (roomId, room) => {
    const ts = room.pending.map((m) => sentAt(m.text)).filter(Number.isFinite);
    const carried = room.pending; // flush swaps room.pending for a new array
    const cpu0 = process.cpuUsage();
    const start = now();
    flush(roomId, room);
    const end = now();
    const cpu = process.cpuUsage(cpu0);
    // Every flush as a span, named by what it carried: frames other than the bench's messages
    // (audience joins/leaves, notices) cost the same full-room write and delay what comes next.
    out.spans.push([`flush ${[...new Set(carried.map((m) => String(m.type)))].join('+')} ${(cpu.user + cpu.system) / 1000 | 0}ms-cpu`, start, end]);
    for (const t of ts) Object.assign(msg(t), { flushStart: start, flushEnd: end, flushCpuMs: (cpu.user + cpu.system) / 1000, sockets: room.sockets.size });
  };
  const span = (name: string, obj: Record<string, unknown>, method: string) => {
    const orig = (obj[method] as (...a: unknown[]) => unknown).bind(obj);
    obj[method] = (...args: unknown[]) => {
      const start = now();
      const r = orig(...args);
      if (r instanceof Promise) void r.finally(() => out.spans.push([name, start, now()])).catch(() => undefined);
      else out.spans.push([name, start, now()]);
      return r;
    };
  };
  const chat = control.chat.chat as unknown as Record<string, unknown>;
  span('heartbeat', chat, 'heartbeatRound');
  span('sweep', chat, 'sweep');
  span('pause-sweep', chat, 'announceEndedPauses');
  const store = (chat.deps as { messages: Record<string, unknown> }).messages;
  span('messages-insert', store, 'insert');
  // GC pauses on this node's main thread, as spans ('gc-minor' scavenge, 'gc-major' mark-compact,
  // 'gc-incremental' marking steps, 'gc-weak' weak callbacks), so a stall can be matched to a GC.
  const gcKind: Record<number, string> = {
    [constants.NODE_PERFORMANCE_GC_MINOR]: 'gc-minor', [constants.NODE_PERFORMANCE_GC_MAJOR]: 'gc-major',
    [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'gc-incremental', [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'gc-weak',
  };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind ?? -1;
      if (e.duration >= 2) out.spans.push([`${gcKind[kind] ?? 'gc'} ${e.duration.toFixed(0)}ms`, performance.timeOrigin + e.startTime, performance.timeOrigin + e.startTime + e.duration]);
    }
  }).observe({ entryTypes: ['gc'] });
  const schedstat = `/proc/self/task/${process.pid}/schedstat`;
  const sched = (): [number, number] => {
    try {
      const [run, wait] = readFileSync(schedstat, 'latin1').split(' ');
      return [Number(run) / 1e6, Number(wait) / 1e6];
    } catch {
      return [NaN, NaN];
    }
  };
  let last = now();
  let lastCpu = process.cpuUsage();
  let lastSched = sched();
  setInterval(() => {
    const t = now();
    const cpu = process.cpuUsage();
    const s = sched();
    if (t - last > 15) out.stalls.push([t, t - last - 5, s[0] - lastSched[0], s[1] - lastSched[1], (cpu.user - lastCpu.user + cpu.system - lastCpu.system) / 1000]);
    last = t;
    lastCpu = cpu;
    lastSched = s;
  }, 5).unref();
  return {
    take(): TraceOut {
      const taken = out;
      out = { messages: {}, spans: [], stalls: [] };
      return taken;
    },
  };
}
