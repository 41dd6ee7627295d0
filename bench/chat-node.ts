/**
 * One control node for `npm run bench:chat`, run as a child process (pinned to one core by the
 * parent) so its CPU and memory are its own. Env: ONAIR_REDIS_URL / ONAIR_REDIS_PREFIX (Redis
 * cache and pub/sub; in-process when unset), ONAIR_SECRET. Answers IPC 'stats' with its CPU time,
 * RSS and open chat sockets; 'gc' runs a full collection first (started with --expose-gc).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../core/config/load.js';
import { createLogger } from '../core/logging/logger.js';
import { openPorts } from '../core/ports.js';
import { createControl } from '../control/main.js';
import { unconfiguredMediaControl } from '../control/media-control-stub.js';

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
  } else if (m.type === 'exit') {
    control.chat.gateway.abort();
    server.closeAllConnections();
    void control.close({ deadline: Date.now() + 2000 }).then(() => ports.close()).finally(() => process.exit(0));
  }
});
