/**
 * npx tsx bench/chat-write.ts — what writing one chat frame to N sockets costs per socket, onair's
 * path against bare `ws` loops, on the same machine at the same time (rounds interleaved, medians).
 *
 * A server child (pinned to core 0, as bench:chat's reading node) holds N `ws` server sockets; the N
 * clients live in this process (core 1) and only count bytes. Each round writes one ~120-byte text
 * frame to every socket, one way per round, the ways in turn; the server measures its CPU time
 * (user + system) over the synchronous write loop, which includes the kernel's loopback TCP send
 * (a write to a loopback socket runs the receiver's side of the stack too), and the wall time.
 * Ways:
 *   ws.send        the bare `ws` loop: `for (ws of sockets) ws.send(text)` (ws frames per socket)
 *   socket.write   a bare loop writing one prebuilt frame to each socket's net.Socket
 *   onair          control/chat's path: one SharedFrame, ChatConn.deliver per socket (the
 *                  send-queue bound check, writeRaw's checks, socket.write)
 *   handle         the prebuilt frame straight to libuv (the net.Socket's handle, no Writable
 *                  stream): what is left is Node's binding and the kernel, a floor, not a way to ship
 * Env: ONAIR_BENCH_SOCKETS (default 5000), ONAIR_BENCH_ROUNDS (per way, default 10).
 */
import { execFileSync, fork } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { loadavg } from 'node:os';
import WebSocket, { WebSocketServer } from 'ws';

const N = Number(process.env.ONAIR_BENCH_SOCKETS ?? 5000);
const ROUNDS = Number(process.env.ONAIR_BENCH_ROUNDS ?? 10);
const WAYS = ['ws.send', 'socket.write', 'onair', 'handle'] as const;
type Way = (typeof WAYS)[number];
const pin = (pid: number, core: number) => {
  try { execFileSync('taskset', ['-a', '-pc', String(core), String(pid)], { stdio: 'ignore' }); } catch { /* no taskset */ }
};

if (process.argv[2] === 'server') {
  const { ChatConn } = await import('../control/chat/chat-conn.js');
  const { SharedFrame } = await import('../control/chat/shared-frame.js');
  const { createLogger } = await import('../core/logging/logger.js');
  const log = createLogger({ level: 'silent' });
  const host = { maxBufferedBytes: 8 * 1024 * 1024, handle: async () => undefined, dropped: () => undefined, closed: () => undefined };
  const sockets: WebSocket[] = [];
  const conns: InstanceType<typeof ChatConn>[] = [];
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const server = createServer();
  server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => {
    sockets.push(ws);
    conns.push(new ChatConn(ws, '1', null, { user: null, canPost: false }, `m${sockets.length}`, host, log));
  }));
  server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as AddressInfo).port }));
  // Node's own write request class (the 'handle' way only).
  const { WriteWrap } = (process as unknown as { binding(name: string): { WriteWrap: new () => object } }).binding('stream_wrap');
  const noop = () => undefined;
  let seq = 0;
  process.on('message', (m: { way: Way } | { exit: true }) => {
    if ('exit' in m) process.exit(0);
    const messages = [{ v: 1 as const, type: 'chat', id: `1-${seq}`, user: { id: '42', username: 'bench_user', role: 'viewer' }, text: `message ${seq++}` }];
    const text = JSON.stringify(messages);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    if (m.way === 'ws.send') {
      for (const ws of sockets) ws.send(text);
    } else if (m.way === 'socket.write') {
      const frame = SharedFrame.of(messages).wire;
      for (const ws of sockets) (ws as unknown as { _socket: Socket })._socket.write(frame);
    } else if (m.way === 'onair') {
      const frame = SharedFrame.of(messages);
      for (const conn of conns) conn.deliver(frame, messages);
    } else {
      const frame = SharedFrame.of(messages).wire;
      for (const ws of sockets) {
        const handle = (ws as unknown as { _socket: { _handle: { writeBuffer(req: object, b: Buffer): number } } })._socket._handle;
        // As net.Socket's writeGeneric does (lib/internal/stream_base_commons.js), minus the stream.
        const req = new WriteWrap() as { handle?: unknown; oncomplete?: () => void; async?: boolean };
        req.handle = handle;
        req.oncomplete = noop;
        req.async = false;
        handle.writeBuffer(req, frame);
      }
    }
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    process.send!({ wall, user: cpu.user / 1000, system: cpu.system / 1000 });
  });
} else {
  const child = fork(new URL(import.meta.url).pathname, ['server'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  pin(child.pid!, 0);
  pin(process.pid, 1);
  const port = await new Promise<number>((resolve) => child.once('message', (m: { port: number }) => resolve(m.port)));
  let bytes = 0;
  const clients: WebSocket[] = [];
  for (let i = 0; i < N; i += 100) {
    clients.push(...(await Promise.all(Array.from({ length: Math.min(100, N - i) }, () => new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false });
      ws.on('message', (d: Buffer) => { bytes += d.length; });
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
    })))));
  }
  await new Promise((r) => setTimeout(r, 1000));
  const results = new Map<Way, Array<{ wall: number; user: number; system: number }>>(WAYS.map((w) => [w, []]));
  const load0 = loadavg()[0]!;
  for (let r = 0; r < ROUNDS; r++) {
    for (const way of WAYS) {
      const before = bytes;
      const res = await new Promise<{ wall: number; user: number; system: number }>((resolve) => {
        child.once('message', resolve);
        child.send({ way });
      });
      results.get(way)!.push(res);
      const until = Date.now() + 5000;
      while (bytes - before < N * 100 && Date.now() < until) await new Promise((res2) => setTimeout(res2, 20));
      await new Promise((res2) => setTimeout(res2, 150));
    }
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const us = (ms: number) => ((ms * 1000) / N).toFixed(2);
  console.log(`${N} sockets, ${ROUNDS} rounds per way (interleaved), medians; load ${load0.toFixed(2)} -> ${loadavg()[0]!.toFixed(2)}`);
  console.log('| way | CPU us/socket | user us/socket | system us/socket | wall ms/frame | CPU ms/frame |');
  console.log('|---|---|---|---|---|---|');
  for (const way of WAYS) {
    const xs = results.get(way)!;
    const cpu = med(xs.map((x) => x.user + x.system));
    console.log(`| ${way} | ${us(cpu)} | ${us(med(xs.map((x) => x.user)))} | ${us(med(xs.map((x) => x.system)))} | ${med(xs.map((x) => x.wall)).toFixed(1)} | ${cpu.toFixed(1)} |`);
  }
  for (const ws of clients) ws.terminate();
  child.send({ exit: true });
  process.exit(0);
}
