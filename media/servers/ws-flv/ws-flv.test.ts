import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { RtmpClient } from '../rtmp/client.js';
import { startEngine, waitForEvent, type EngineHarness } from '../../engine-test-kit.js';
import { FlvParser } from '../../protocols/flv/flv-parser.js';
import { MAX_PINGS_PER_SECOND } from './server.js';

/** Opens a WS-FLV connection; resolves with the HTTP status of a refused upgrade, or the socket. */
function open(port: number, path: string): Promise<{ status: number; ws?: WebSocket }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`);
    ws.on('open', () => resolve({ status: 101, ws }));
    ws.on('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0 });
      res.resume();
      ws.terminate();
    });
    ws.on('error', () => resolve({ status: 0 }));
  });
}

/** A raw WS-FLV client: the upgrade by hand, then the server's frames counted by opcode (binary, pong, close). */
async function rawViewer(port: number): Promise<{ send(b: Buffer): void; frames: { binary: number; pongs: Buffer[]; close?: { code: number; reason: string } }; closed: Promise<void>; destroy(): void }> {
  const s = connect({ port, host: '127.0.0.1' });
  s.on('error', () => {});
  s.write([
    'GET /live/room1.flv?token=good HTTP/1.1', 'Host: x', 'Upgrade: websocket', 'Connection: Upgrade',
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`, 'Sec-WebSocket-Version: 13', '', '',
  ].join('\r\n'));
  const frames: { binary: number; pongs: Buffer[]; close?: { code: number; reason: string } } = { binary: 0, pongs: [] };
  let buf = Buffer.alloc(0);
  let upgraded = false;
  const ready = new Promise<void>((resolve) => {
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (!upgraded) {
        const i = buf.indexOf('\r\n\r\n');
        if (i < 0) return;
        assert.match(buf.subarray(0, i).toString(), /^HTTP\/1\.1 101/);
        buf = buf.subarray(i + 4);
        upgraded = true;
      }
      for (;;) {
        if (buf.length < 2) break;
        let len = buf[1]! & 0x7f;
        let off = 2;
        if (len === 126) [len, off] = buf.length < 4 ? [-1, 0] : [buf.readUInt16BE(2), 4];
        else if (len === 127) [len, off] = buf.length < 10 ? [-1, 0] : [Number(buf.readBigUInt64BE(2)), 10];
        if (len < 0 || buf.length < off + len) break;
        const op = buf[0]! & 0x0f;
        const body = buf.subarray(off, off + len);
        if (op === 0x2) frames.binary++;
        else if (op === 0xa) frames.pongs.push(Buffer.from(body));
        else if (op === 0x8) frames.close = { code: body.readUInt16BE(0), reason: body.subarray(2).toString() };
        buf = buf.subarray(off + len);
      }
      if (frames.binary >= 10) resolve();
    });
  });
  const closed = new Promise<void>((r) => s.on('close', () => r()));
  await ready;
  return { send: (b) => s.write(b), frames, closed, destroy: () => s.destroy() };
}

/** `n` masked Ping frames with payloads "p0", "p1", ... in one buffer (one TCP write). */
function pings(n: number): Buffer {
  return Buffer.concat(Array.from({ length: n }, (_, i) => {
    const mask = randomBytes(4);
    const body = Buffer.from(`p${i}`);
    for (let j = 0; j < body.length; j++) body[j]! ^= mask[j % 4]!;
    return Buffer.concat([Buffer.from([0x89, 0x80 | body.length]), mask, body]);
  }));
}

describe('WS-FLV', () => {
  let h: EngineHarness;
  let pub: RtmpClient;
  let timer: NodeJS.Timeout;
  before(async () => {
    h = await startEngine();
    pub = await RtmpClient.open('127.0.0.1', h.rtmpPort);
    await pub.connect('live');
    pub.publish('X');
    await pub.nextStatus();
    pub.sendMedia(9, 0, Buffer.from([0x17, 0, 0, 0, 0, 1, 0x42, 0, 0x1e, 0xff]));
    pub.sendMedia(8, 0, Buffer.from([0xaf, 0, 0x12, 0x10]));
    let ts = 0;
    timer = setInterval(() => {
      ts += 33;
      const frame = Buffer.alloc(500, 1);
      frame[0] = ts % 990 === 0 ? 0x17 : 0x27;
      pub.sendMedia(9, ts, frame);
      pub.sendMedia(8, ts, Buffer.from([0xaf, 1, 2, 3]));
    }, 10);
  });
  after(async () => {
    clearInterval(timer);
    pub.close();
    await h.close();
  });

  it('refuses the upgrade with 401 without a token and 403 with a forged one', async () => {
    assert.equal((await open(h.httpPort, '/live/room1.flv')).status, 401);
    assert.equal((await open(h.httpPort, '/live/room1.flv?token=forged')).status, 403);
    assert.equal((await open(h.httpPort, '/live/none.flv?token=good')).status, 404);
  });

  it('streams the FLV header, then one tag per binary message', async () => {
    const { status, ws } = await open(h.httpPort, '/live/room1.flv?token=good');
    assert.equal(status, 101);
    const parser = new FlvParser();
    const types: number[] = [];
    let messages = 0;
    let received = 0;
    // Until a few video frames arrived: before the stream's first keyframe a viewer gets audio only.
    await new Promise<void>((resolve) => {
      ws!.on('message', (data: Buffer) => {
        messages++;
        received += data.length;
        for (const t of parser.push(data)) types.push(t.type);
        if (types.length >= 20 && types.filter((t) => t === 9).length >= 6) resolve();
      });
    });
    assert.ok(parser.header);
    assert.deepEqual(types.slice(0, 2), [9, 8], 'sequence headers first');
    assert.equal(messages, types.length + 1, 'header message + one message per tag');
    const started = await waitForEvent(h, 'play.started', (e) => e.protocol === 'ws-flv');
    ws!.close();
    const ended = await waitForEvent(h, 'play.ended', (e) => e.viewerId === started.viewerId, 3000);
    assert.equal(ended.protocol, 'ws-flv');
    assert.ok(ended.bytesOut >= received, `play.ended counts every byte sent (${ended.bytesOut} < ${received})`);
  });

  it('ends a viewer at once when it sends a Close frame and keeps its TCP connection half-open', async () => {
    const s = connect({ port: h.httpPort, host: '127.0.0.1', allowHalfOpen: true });
    s.on('error', () => {});
    s.write([
      'GET /live/room1.flv?token=good HTTP/1.1', 'Host: x', 'Upgrade: websocket', 'Connection: Upgrade',
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`, 'Sec-WebSocket-Version: 13', '', '',
    ].join('\r\n'));
    await new Promise((r) => s.once('data', r));
    const started = await waitForEvent(h, 'play.started', (e) => e.protocol === 'ws-flv' && !h.events.some((x) => x.name === 'play.ended' && (x.payload as { viewerId: string }).viewerId === e.viewerId));
    const mask = randomBytes(4);
    const body = Buffer.from([0x03 ^ mask[0]!, 0xe8 ^ mask[1]!]);
    s.write(Buffer.concat([Buffer.from([0x88, 0x82]), mask, body])); // Close 1000, and no FIN after it
    s.on('data', () => {});
    const ended = await waitForEvent(h, 'play.ended', (e) => e.viewerId === started.viewerId, 3000);
    assert.equal(ended.reason, 'closed');
    s.destroy();
    // The engine still serves.
    const { status, ws } = await open(h.httpPort, '/live/room1.flv?token=good');
    assert.equal(status, 101);
    await new Promise((r) => ws!.once('message', r));
    ws!.terminate();
  });

  it('answers a burst of 100 pings in one segment and keeps streaming (ws closed it with 1006 past 60 pending pongs)', async () => {
    const v = await rawViewer(h.httpPort);
    try {
      v.send(pings(100));
      await new Promise((r) => setTimeout(r, 500));
      const before = v.frames.binary;
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(v.frames.close, undefined, 'not closed');
      assert.ok(v.frames.binary > before, 'media still flows after the burst');
      assert.ok(v.frames.pongs.length >= 1 && v.frames.pongs.length <= 100, `pongs answered (${v.frames.pongs.length})`);
      assert.equal(v.frames.pongs.at(-1)!.toString(), 'p99', 'the last pong answers the newest ping');
    } finally {
      v.destroy();
    }
  });

  it('closes a ping flood with 1008 and a reason, and another viewer keeps streaming', async () => {
    const other = await rawViewer(h.httpPort);
    const v = await rawViewer(h.httpPort);
    try {
      v.send(pings(MAX_PINGS_PER_SECOND + 500));
      await v.closed;
      assert.deepEqual(v.frames.close, { code: 1008, reason: 'too many pings' });
      const before = other.frames.binary;
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(other.frames.close, undefined);
      assert.ok(other.frames.binary > before, 'the other viewer still gets media');
    } finally {
      v.destroy();
      other.destroy();
    }
  });
});
