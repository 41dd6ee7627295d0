/**
 * An RTMP client that sends requests the engine answers (commands, pings) and never reads the
 * answers cannot make the engine queue them without end: once a connection's unsent bytes pass
 * MAX_UNREAD_REPLY_BYTES the engine stops reading it until they drain, so the client's own writes
 * stall. Before, one such client grew the server by 230 MB (before publishing) or 330 MB (an RTMP
 * player flooding pings) in a few seconds.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { ffmpegPublish, killHard, startEngine, testConfig, until, TEST_STREAM, TEST_TOKEN, type EngineHarness } from '../../engine-test-kit.js';
import { buildClientHello, HANDSHAKE_SIZE } from '../../protocols/rtmp/handshake.js';
import { serializeMessage } from '../../protocols/rtmp/chunk-writer.js';
import { encodeAmf0 } from '../../protocols/rtmp/amf0.js';
import { missingTool } from '../../../core/testing/tools.js';

const command = (name: string, tx: number, streamId: number, ...args: (string | null | Record<string, string>)[]) =>
  serializeMessage({ csid: 3, typeId: 20, streamId, timestamp: 0, payload: encodeAmf0(name, tx, ...args) }, 128);
const pingRequest = () => serializeMessage({ csid: 2, typeId: 4, streamId: 0, timestamp: 0, payload: Buffer.from([0, 6, 0, 0, 0, 1]) }, 128);

/** Handshake (reading S0-S2), then stop reading for good. */
function openNonReading(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' });
    let got = Buffer.alloc(0);
    socket.on('error', () => {});
    socket.on('close', () => reject(new Error('closed during the handshake')));
    socket.on('connect', () => socket.write(buildClientHello(false)));
    socket.on('data', function onData(d: Buffer) {
      got = Buffer.concat([got, d]);
      if (got.length < 1 + 2 * HANDSHAKE_SIZE) return;
      socket.off('data', onData);
      socket.pause();
      socket.write(got.subarray(1, 1 + HANDSHAKE_SIZE));
      resolve(socket);
    });
  });
}

/** Writes `unit` in batches for `ms` (waiting for drain, so the client holds little); returns the server's RSS growth in MB. */
async function flood(socket: Socket, unit: Buffer, ms: number): Promise<{ rssGrowthMb: number; sentMb: number }> {
  const batch = Buffer.concat(Array.from({ length: Math.ceil(64 * 1024 / unit.length) }, () => unit));
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  let sent = 0;
  const t0 = Date.now();
  while (Date.now() - t0 < ms && !socket.destroyed) {
    if (!socket.write(batch)) {
      await new Promise<void>((r) => {
        const t = setTimeout(r, 100);
        socket.once('drain', () => (clearTimeout(t), r()));
      });
    }
    sent += batch.length;
    peak = Math.max(peak, process.memoryUsage().rss);
  }
  return { rssGrowthMb: (peak - rss0) / 1e6, sentMb: sent / 1e6 };
}

describe('RTMP: replies a client never reads', () => {
  let h: EngineHarness;
  before(async () => {
    h = await startEngine({ config: testConfig({ idleTimeout: 30_000 }, { startTimeout: 30_000 }) });
  });
  after(() => h.close());

  it('a client sending createStream after createStream without reading: the engine stops reading it instead of queueing every answer', async () => {
    const socket = await openNonReading(h.rtmpPort);
    socket.write(command('connect', 1, 0, { app: 'live', tcUrl: 'rtmp://x/live' }));
    const { rssGrowthMb, sentMb } = await flood(socket, command('createStream', 2, 0, null), 5000);
    socket.destroy();
    // Measured: before, +130-160 MB and 55-75 MB sent in 5 s; now, +8 MB and 11 MB (what the kernel buffers hold).
    assert.ok(rssGrowthMb < 40, `the server grew by ${rssGrowthMb.toFixed(0)} MB while the client sent ${sentMb.toFixed(0)} MB`);
    assert.ok(sentMb < 30, `the client could send ${sentMb.toFixed(0)} MB of commands it never read the answers to`);
  });

  it('an RTMP player flooding ping requests without reading: the engine stops reading it', { skip: missingTool('ffmpeg') }, async () => {
    const publisher = ffmpegPublish(`rtmp://127.0.0.1:${h.rtmpPort}/live/X`, { seconds: 30, size: '320x240' });
    try {
      assert.ok(await until(() => h.engine.streams.get(TEST_STREAM)?.ready === true, 15_000), 'publishing');
      const socket = await openNonReading(h.rtmpPort);
      socket.write(command('connect', 1, 0, { app: 'live', tcUrl: 'rtmp://x/live' }));
      socket.write(command('createStream', 2, 0, null));
      socket.write(command('play', 3, 1, null, `${TEST_STREAM}?token=${TEST_TOKEN}`));
      assert.ok(await until(() => h.events.some((e) => e.name === 'play.started'), 5000), 'playing');
      const { rssGrowthMb, sentMb } = await flood(socket, pingRequest(), 5000);
      socket.destroy();
      // Measured: before, +47-122 MB (a write per pong); now, +3 MB.
      assert.ok(rssGrowthMb < 25, `the server grew by ${rssGrowthMb.toFixed(0)} MB while the player sent ${sentMb.toFixed(0)} MB of pings`);
    } finally {
      killHard(publisher);
    }
  });
});
