/**
 * The Node twin of bench/lib/loopback-writer.c for `npm run bench:loopback-ceiling`: the simplest
 * HTTP-FLV fan-out with net.createServer and nothing else.
 *
 *   node --import tsx bench/lib/loopback-writer-node.ts PORT STREAM_FILE
 *
 * Each connection's request is read and ignored; at its first bytes the viewer gets the stream's head
 * (one socket.write) and joins. Every tick (100 ms) each viewer gets the chunk due with one
 * socket.write(buffer), the same Buffer for all (when the timer was late, the chunks due are
 * concatenated once, for all). A viewer with more than 2 s of the stream queued in Node skips the
 * tick (whole chunks only: its FLV stays valid). On SIGTERM/SIGINT it prints one JSON line of
 * counters and exits; it also exits when its parent dies.
 */
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { decodeTickStream } from './loopback-stream.js';

const MAX_BEHIND_TICKS = 20;

const [portArg, file] = process.argv.slice(2);
if (!portArg || !file) {
  console.error('usage: loopback-writer-node.ts PORT STREAM_FILE');
  process.exit(2);
}
const { tickMs, head, chunks } = decodeTickStream(readFileSync(file));
const maxQueued = (chunks.reduce((s, c) => s + c.length, 0) / chunks.length) * MAX_BEHIND_TICKS;
const st = { accepted: 0, closed: 0, maxActive: 0, ticks: 0, lateTicks: 0, writes: 0, bytes: 0, queued: 0, droppedTicks: 0 };
const viewers = new Set<net.Socket>();

const server = net.createServer((socket) => {
  st.accepted++;
  socket.on('error', () => undefined);
  socket.on('close', () => {
    st.closed++;
    viewers.delete(socket);
  });
  socket.on('data', () => {
    if (viewers.has(socket)) return;
    socket.write(head);
    viewers.add(socket);
    if (viewers.size > st.maxActive) st.maxActive = viewers.size;
  });
});
server.listen({ port: Number(portArg), host: '127.0.0.1', backlog: 4096 });

const start = performance.now();
let avail = 0;
function tick(): void {
  const due = Math.floor((performance.now() - start) / tickMs);
  if (due > avail) {
    st.ticks++;
    if (due > avail + 1) st.lateTicks++;
    const from = Math.max(avail, due - MAX_BEHIND_TICKS);
    const payload = due - from === 1 ? chunks[from % chunks.length]! : Buffer.concat(Array.from({ length: due - from }, (_, i) => chunks[(from + i) % chunks.length]!));
    avail = due;
    for (const s of viewers) {
      if (s.writableLength > maxQueued) {
        st.droppedTicks++;
        continue;
      }
      if (!s.write(payload)) st.queued++;
      st.writes++;
      st.bytes += payload.length;
    }
  }
  setTimeout(tick, Math.max(0, start + (avail + 1) * tickMs - performance.now()));
}
setTimeout(tick, tickMs);

const ppid = process.ppid;
setInterval(() => {
  if (process.ppid !== ppid) process.exit(0);
}, 1000).unref();

function stop(): void {
  process.stdout.write(`${JSON.stringify(st)}\n`, () => process.exit(0));
}
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
