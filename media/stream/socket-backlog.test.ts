import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { readSendQueues, socketKey } from './socket-backlog.js';

/** A server socket that wrote 4 MiB to a client that reads nothing; `check` sees it. */
async function withStuckWriter(listenHost: string, connectHost: string, check: (server: Socket) => Promise<void>): Promise<void> {
  let serverSide: Socket | undefined;
  const server = createServer((s) => {
    s.on('error', () => {});
    s.write(Buffer.alloc(4 << 20));
    serverSide = s;
  });
  await new Promise<void>((r) => server.listen(0, listenHost, r));
  const client = connect((server.address() as AddressInfo).port, connectHost);
  client.on('error', () => {});
  client.pause();
  try {
    await new Promise((r) => setTimeout(r, 300));
    await check(serverSide!);
  } finally {
    client.destroy();
    await new Promise((r) => server.close(r));
  }
}

describe('kernel send queues (/proc/net/tcp)', { skip: process.platform !== 'linux' && 'Linux only' }, () => {
  for (const [listen, target, v6] of [['127.0.0.1', '127.0.0.1', false], ['::', '127.0.0.1', true], ['::1', '::1', true]] as const) {
    it(`finds the unacknowledged bytes of a connection to ${target} on a ${listen} listener`, async () => {
      await withStuckWriter(listen, target, async (s) => {
        const key = socketKey(s);
        assert.ok(key);
        assert.equal(key.v6, v6);
        const queues = await readSendQueues(new Map([[key.key, true]]), key.v6);
        const unacked = queues?.get(key.key) ?? 0;
        assert.ok(unacked > 64 * 1024, `${unacked} bytes held by the kernel`);
        assert.ok(unacked <= s.bytesWritten, 'never more than was written');
      });
    });
  }
});
