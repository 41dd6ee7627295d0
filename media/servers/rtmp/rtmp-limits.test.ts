/**
 * RTMP ingest cannot be locked by connections that never publish or play: a deadline from connect
 * to publish/play, a per-address cap, and at the global cap the oldest idle connection makes room,
 * so an anchor still publishes; RTMP players leave the publishers' reserve alone. Raw sockets from
 * several loopback addresses (127.0.0.2, ...) stand for several clients.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { startEngine, testConfig, until, sleep, type EngineHarness } from '../../engine-test-kit.js';
import { buildClientHello, HANDSHAKE_SIZE } from '../../protocols/rtmp/handshake.js';
import { serializeMessage } from '../../protocols/rtmp/chunk-writer.js';
import { encodeAmf0 } from '../../protocols/rtmp/amf0.js';
import { RtmpClient } from './client.js';

const windowAck = () => serializeMessage({ csid: 2, typeId: 5, streamId: 0, timestamp: 0, payload: Buffer.from([0, 0x26, 0x25, 0xa0]) }, 128);
const connectCmd = () => serializeMessage({ csid: 3, typeId: 20, streamId: 0, timestamp: 0, payload: encodeAmf0('connect', 1, { app: 'live', tcUrl: 'rtmp://x/live' }) }, 128);

interface Squatter {
  socket: Socket;
  /** The server answered the handshake (S0+S1+S2). */
  handshook: Promise<boolean>;
  closedAt(): number | undefined;
  stop(): void;
}

/**
 * A client from `localAddress` that does the handshake and connect, then only sends a
 * WindowAckSize every 300 ms: never publish, never play, never silent.
 */
function squat(port: number, localAddress = '127.0.0.1'): Squatter {
  const socket = connect({ port, host: '127.0.0.1', localAddress });
  let closedAt: number | undefined;
  let timer: NodeJS.Timeout | undefined;
  socket.on('error', () => {});
  socket.on('close', () => {
    closedAt = Date.now();
    clearInterval(timer);
  });
  const handshook = new Promise<boolean>((resolve) => {
    let got = Buffer.alloc(0);
    socket.on('connect', () => socket.write(buildClientHello(false)));
    socket.on('data', (d: Buffer) => {
      if (got.length >= 1 + 2 * HANDSHAKE_SIZE) return;
      got = Buffer.concat([got, d]);
      if (got.length < 1 + 2 * HANDSHAKE_SIZE) return;
      socket.write(got.subarray(1, 1 + HANDSHAKE_SIZE));
      socket.write(connectCmd());
      timer = setInterval(() => socket.write(windowAck()), 300);
      resolve(true);
    });
    socket.on('close', () => resolve(false));
  });
  return { socket, handshook, closedAt: () => closedAt, stop: () => socket.destroy() };
}

async function refusals(h: EngineHarness): Promise<Record<string, number>> {
  const metric = await h.metrics.getSingleMetric('onair_media_rtmp_refusals_total')!.get();
  return Object.fromEntries(metric.values.map((v) => [String(v.labels.reason), v.value]));
}

describe('RTMP connection limits', () => {
  let h: EngineHarness;
  before(async () => {
    h = await startEngine({
      config: testConfig({ idleTimeout: 10_000 }, { startTimeout: 1000, maxConnections: 12, maxConnectionsPerIp: 4, publisherReserve: 2 }),
    });
  });
  after(() => h.close());

  it('drops a client that sends WindowAckSize every 300 ms but never publishes or plays, at the start deadline', async () => {
    const s = squat(h.rtmpPort);
    assert.equal(await s.handshook, true);
    const t0 = Date.now();
    assert.ok(await until(() => s.closedAt() !== undefined, 4000), 'dropped within 4 s');
    const after = s.closedAt()! - t0;
    assert.ok(after >= 700 && after < 2500, `dropped after ${after} ms (deadline 1000 ms)`);
    assert.equal((await refusals(h)).start_timeout, 1);
  });

  it('refuses connections from one address past the per-address cap, and not others', async () => {
    const same = Array.from({ length: 4 }, () => squat(h.rtmpPort, '127.0.0.2'));
    try {
      assert.deepEqual(await Promise.all(same.map((s) => s.handshook)), [true, true, true, true]);
      const fifth = squat(h.rtmpPort, '127.0.0.2');
      assert.equal(await fifth.handshook, false, 'the fifth from 127.0.0.2 is refused');
      const other = squat(h.rtmpPort, '127.0.0.3');
      assert.equal(await other.handshook, true, '127.0.0.3 still gets in');
      other.stop();
      assert.equal((await refusals(h)).per_ip, 1);
    } finally {
      for (const s of same) s.stop();
    }
  });

  it('lets an anchor publish while idle connections from other addresses fill the global cap', async () => {
    await until(() => h.engine.streams.size === 0 && (h.engine as unknown as { rtmp: { connectionCount: number } }).rtmp.connectionCount === 0, 3000);
    const squatters = ['127.0.0.2', '127.0.0.3', '127.0.0.4'].flatMap((ip) => Array.from({ length: 4 }, () => squat(h.rtmpPort, ip)));
    try {
      assert.ok((await Promise.all(squatters.map((s) => s.handshook))).every(Boolean), '12 idle connections hold every slot');
      const anchor = await RtmpClient.open('127.0.0.1', h.rtmpPort);
      await anchor.connect('live');
      anchor.publish('X');
      assert.equal((await anchor.nextStatus()).code, 'NetStream.Publish.Start');
      assert.ok(await until(() => squatters.some((s) => s.closedAt() !== undefined), 1000), 'the oldest idle connection made room');
      assert.equal((await refusals(h)).displaced, 1);
      anchor.close();
    } finally {
      for (const s of squatters) s.stop();
    }
  });

  it('keeps the publisher reserve from RTMP players', async () => {
    await until(() => (h.engine as unknown as { rtmp: { connectionCount: number } }).rtmp.connectionCount === 0, 3000);
    const anchor = await RtmpClient.open('127.0.0.1', h.rtmpPort);
    await anchor.connect('live');
    anchor.publish('X');
    await anchor.nextStatus();
    const players: RtmpClient[] = [];
    try {
      // 12 slots, 2 kept for publishers: 10 players.
      for (const ip of ['127.0.0.2', '127.0.0.3', '127.0.0.4']) {
        for (let i = 0; i < 4 && players.length < 11; i++) players.push(await RtmpClient.open('127.0.0.1', h.rtmpPort, 5000, ip));
      }
      for (const p of players.slice(0, 10)) {
        await p.connect('live');
        const status = p.nextStatus();
        p.play('room1?token=good');
        assert.equal((await status).code, 'NetStream.Play.Reset');
      }
      const last = players[10]!;
      await last.connect('live');
      const status = last.nextStatus();
      last.play('room1?token=good');
      assert.equal((await status).code, 'NetStream.Play.Failed');
      assert.equal((await refusals(h)).players_full, 1);
    } finally {
      for (const p of players) p.close();
      anchor.close();
    }
    await sleep(100);
  });
});
