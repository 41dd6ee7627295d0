/**
 * npx tsx bench/chat-read.ts — what READING one chat frame costs the benchmark's client process per
 * socket: the `ws` client against the lean reader of bench/lib/ws-lean-reader.ts (bench:chat's
 * default since 2026-11-28), on the same machine at the same time (rounds interleaved, medians).
 *
 * A server child (pinned to core 0, as bench:chat's reading node) holds N `ws` server sockets, N/2
 * from `ws` clients and N/2 from lean clients, all in this process (core 1, as bench:chat's clients).
 * Each round the server writes one ~120-byte text frame to one group's sockets (the groups in turn);
 * this process measures its own CPU (user + system) from the request until its last socket of the
 * group has the frame (each reader scans the frame for its send time, as bench:chat's do), and the
 * wall time. The CPU includes the kernel's receive (epoll, read) and waiting for the write (a few ms).
 * Env: ONAIR_BENCH_SOCKETS (default 5000: 2,500 per reader), ONAIR_BENCH_ROUNDS (per reader, default 10).
 */
import { execFileSync, fork } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import WebSocket, { WebSocketServer } from 'ws';
import { connectLean } from './lib/ws-lean-reader.js';

const N = Number(process.env.ONAIR_BENCH_SOCKETS ?? 5000);
const ROUNDS = Number(process.env.ONAIR_BENCH_ROUNDS ?? 10);
const KINDS = ['ws', 'lean'] as const;
type Kind = (typeof KINDS)[number];
const pin = (pid: number, core: number) => {
  try { execFileSync('taskset', ['-a', '-pc', String(core), String(pid)], { stdio: 'ignore' }); } catch { /* no taskset */ }
};

if (process.argv[2] === 'server') {
  const groups: Record<Kind, WebSocket[]> = { ws: [], lean: [] };
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const server = createServer();
  server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => {
    groups[req.url?.includes('lean') ? 'lean' : 'ws'].push(ws);
  }));
  server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as AddressInfo).port }));
  process.on('message', (m: { kind: Kind } | { exit: true }) => {
    if ('exit' in m) process.exit(0);
    const text = JSON.stringify([{ v: 1, type: 'chat', id: '1-1', user: { id: '42', username: 'bench_user', role: 'viewer' }, text: `t:${(performance.timeOrigin + performance.now()).toFixed(1)}` }]);
    for (const ws of groups[m.kind]) ws.send(text);
  });
} else {
  const child = fork(new URL(import.meta.url).pathname, ['server'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  pin(child.pid!, 0);
  pin(process.pid, 1);
  const port = await new Promise<number>((resolve) => child.once('message', (m: { port: number }) => resolve(m.port)));
  const half = Math.floor(N / 2);
  const got: Record<Kind, number> = { ws: 0, lean: 0 };
  let target: { kind: Kind; count: number; done: () => void } | undefined;
  const NEEDLE = Buffer.from('"text":"t:', 'latin1');
  const delays: number[] = [];
  const seen = (kind: Kind) => {
    got[kind]++;
    if (target && target.kind === kind && got[kind] >= target.count) target.done();
  };
  const ws: WebSocket[] = [];
  const lean: Array<{ terminate(): void }> = [];
  for (let i = 0; i < half; i += 100) {
    ws.push(...(await Promise.all(Array.from({ length: Math.min(100, half - i) }, () => new Promise<WebSocket>((resolve, reject) => {
      const c = new WebSocket(`ws://127.0.0.1:${port}/ws`, { perMessageDeflate: false });
      c.on('message', (d: Buffer) => {
        // As bench:chat's `ws` reader: the text as latin1, the send time found and parsed.
        const s = d.toString('latin1');
        const at = s.indexOf('"text":"t:');
        if (at !== -1) delays.push(performance.timeOrigin + performance.now() - Number(s.slice(at + 10, s.indexOf('"', at + 10))));
        seen('ws');
      });
      c.once('open', () => resolve(c));
      c.once('error', reject);
    })))));
    lean.push(...(await Promise.all(Array.from({ length: Math.min(100, half - i) }, () => connectLean({
      port, path: '/lean',
      onMessage: (p, t) => {
        // As bench:chat's lean reader: the bytes scanned, the send time parsed.
        const at = p.indexOf(NEEDLE);
        if (at !== -1) delays.push(performance.timeOrigin + t - Number(p.toString('latin1', at + 10, p.indexOf(0x22, at + 10))));
        seen('lean');
      },
    })))));
  }
  await new Promise((r) => setTimeout(r, 1000));
  const results = new Map<Kind, Array<{ wall: number; user: number; system: number }>>(KINDS.map((k) => [k, []]));
  const load0 = loadavg()[0]!;
  for (let r = 0; r < ROUNDS; r++) {
    for (const kind of KINDS) {
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const done = new Promise<void>((resolve) => { target = { kind, count: got[kind] + half, done: resolve }; });
      child.send({ kind });
      await Promise.race([done, new Promise((res) => setTimeout(res, 5000))]);
      target = undefined;
      const cpu = process.cpuUsage(cpu0);
      results.get(kind)!.push({ wall: performance.now() - t0, user: cpu.user / 1000, system: cpu.system / 1000 });
      await new Promise((res) => setTimeout(res, 200));
    }
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const us = (ms: number) => ((ms * 1000) / half).toFixed(2);
  console.log(`${half} sockets per reader, ${ROUNDS} rounds per reader (interleaved), medians; load ${load0.toFixed(2)} -> ${loadavg()[0]!.toFixed(2)}`);
  console.log('| reader | client CPU us/delivery | user | system | wall ms (request -> last socket) |');
  console.log('|---|---|---|---|---|');
  for (const kind of KINDS) {
    const xs = results.get(kind)!;
    console.log(`| ${kind} | ${us(med(xs.map((x) => x.user + x.system)))} | ${us(med(xs.map((x) => x.user)))} | ${us(med(xs.map((x) => x.system)))} | ${med(xs.map((x) => x.wall)).toFixed(1)} |`);
  }
  for (const c of [...ws, ...lean]) c.terminate();
  child.send({ exit: true });
  process.exit(0);
}
