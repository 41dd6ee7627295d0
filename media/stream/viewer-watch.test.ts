/**
 * A viewer that connects and never reads is dropped within viewerQueueTime (plus a watch tick),
 * although the kernel's send buffer takes megabytes of its backlog without a word: on every
 * protocol over real sockets, while a reading viewer of the same stream keeps playing.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { startEngine, testConfig, httpGet, sleep, until, type EngineHarness } from '../engine-test-kit.js';
import { RtmpClient } from '../servers/rtmp/client.js';
import type { MediaEventName, MediaEvents } from '../../core/media/media-contract.js';

/** The first `name` event at or after index `from` of the harness's event log that matches. */
async function eventAfter<K extends MediaEventName>(h: EngineHarness, from: number, name: K, pred: (p: MediaEvents[K]) => boolean, timeoutMs = 10_000): Promise<MediaEvents[K]> {
  const find = () => h.events.slice(from).find((e) => e.name === name && pred(e.payload as MediaEvents[K]))?.payload as MediaEvents[K] | undefined;
  await until(() => find() !== undefined, timeoutMs);
  const found = find();
  if (!found) throw new Error(`no ${name} in ${timeoutMs} ms`);
  return found;
}

const QUEUE_TIME = 1500;
const avcHeader = Buffer.from([0x17, 0, 0, 0, 0, 1, 0x42, 0, 0x1e, 0xff, 0xe0]);
/** ~2.4 Mb/s: a 10 kB frame every 33 ms, a keyframe every second. */
function pumpMedia(pub: RtmpClient): NodeJS.Timeout {
  let ts = 0;
  let n = 0;
  pub.sendMedia(9, 0, avcHeader);
  return setInterval(() => {
    const b = Buffer.alloc(10_000, 0x55);
    b[0] = n++ % 30 === 0 ? 0x17 : 0x27;
    b[1] = 1;
    pub.sendMedia(9, (ts += 33), b);
  }, 33);
}

/** A raw client that sends its request and then never reads a byte. */
function neverReading(port: number, request: string): Promise<{ close(): void }> {
  return new Promise((resolve) => {
    const s: Socket = connect(port, '127.0.0.1', () => {
      s.pause();
      s.write(request);
      resolve({ close: () => s.destroy() });
    });
    s.on('error', () => {});
  });
}

describe('viewers that never read', { skip: process.platform !== 'linux' && 'Linux only: the kernel send queue is read from /proc/net/tcp' }, () => {
  let h: EngineHarness;
  let pub: RtmpClient;
  let pump: NodeJS.Timeout;
  before(async () => {
    h = await startEngine({ config: testConfig({ viewerQueueTime: QUEUE_TIME }) });
    pub = await RtmpClient.open('127.0.0.1', h.rtmpPort);
    await pub.connect('live');
    pub.setChunkSize(60_000);
    pub.publish('X');
    await pub.nextStatus();
    pump = pumpMedia(pub);
  });
  after(async () => {
    clearInterval(pump);
    pub.close();
    await h.close();
  });

  const clients: Record<string, (port: number, rtmpPort: number) => Promise<{ close(): void }>> = {
    'http-flv': async (port) => neverReading(port, 'GET /live/room1.flv?token=good HTTP/1.1\r\nHost: x\r\n\r\n'),
    'ws-flv': async (port) => neverReading(port, [
      'GET /live/room1.flv?token=good HTTP/1.1', 'Host: x', 'Upgrade: websocket', 'Connection: Upgrade',
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13', '', '',
    ].join('\r\n')),
    rtmp: async (_port, rtmpPort) => {
      const c = await RtmpClient.open('127.0.0.1', rtmpPort);
      await c.connect('live');
      c.play('room1?token=good');
      c.socket.pause();
      return c;
    },
  };

  for (const [protocol, open] of Object.entries(clients)) {
    it(`drops a ${protocol} viewer that never reads within the queue time, while a reading viewer plays on`, async () => {
      const mark = h.events.length;
      const reader = await httpGet(h.httpPort, '/live/room1.flv?token=good');
      let readBytes = 0;
      reader.on('data', (d: Buffer) => (readBytes += d.length));
      const readerStarted = await eventAfter(h, mark, 'play.started', (e) => e.protocol === 'http-flv');
      const clientMark = h.events.length;
      const client = await open(h.httpPort, h.rtmpPort);
      const started = await eventAfter(h, clientMark, 'play.started', (e) => e.protocol === protocol);
      const ended = await eventAfter(h, mark, 'play.ended', (e) => e.viewerId === started.viewerId, 20_000);
      const after = ended.at - started.at;
      console.log(`# ${protocol}: a viewer that never reads was dropped after ${after} ms (queue time ${QUEUE_TIME} ms)`);
      assert.equal(ended.reason, 'slow');
      // The queue time, a watch tick or two (300 ms each; later on a busy machine) and what the
      // client's own receive buffer swallowed. Before ViewerWatch such a viewer was never dropped.
      assert.ok(after < QUEUE_TIME + 2000, `dropped after ${after} ms`);
      const before = readBytes;
      await sleep(1000);
      assert.ok(readBytes - before > 150_000, `the reading viewer kept receiving (${readBytes - before} bytes in 1 s)`);
      assert.ok(!h.events.slice(mark).some((e) => e.name === 'play.ended' && (e.payload as MediaEvents['play.ended']).viewerId === readerStarted.viewerId));
      client.close();
      reader.destroy();
    });
  }
});
