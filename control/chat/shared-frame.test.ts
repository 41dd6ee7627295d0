import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, WebSocket } from 'ws';
import { SharedFrame, frameWrites, textFrame, writeRaw } from './shared-frame.js';

/** A real ws server and `n` real ws clients; resolves with the server side of each socket. */
async function pair(n: number, deflate: boolean | object = false) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: deflate, clientTracking: false });
  await new Promise<void>((resolve) => wss.once('listening', resolve));
  const servers: WebSocket[] = [];
  wss.on('connection', (ws) => servers.push(ws));
  const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  const clients = await Promise.all(Array.from({ length: n }, () => new Promise<WebSocket>((resolve, reject) => {
    const c = new WebSocket(url, { perMessageDeflate: deflate });
    c.once('open', () => resolve(c));
    c.once('error', reject);
  })));
  while (servers.length < n) await new Promise((r) => setTimeout(r, 5));
  const received = clients.map((c) => {
    const got: Array<{ text: string; binary: boolean }> = [];
    c.on('message', (data: Buffer, binary) => got.push({ text: data.toString('utf8'), binary }));
    return got;
  });
  const close = async () => {
    for (const c of clients) c.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  };
  return { servers, clients, received, close };
}

async function until(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('SharedFrame: one framing written to many real ws clients', () => {
  const closers: Array<() => Promise<void>> = [];
  after(async () => {
    for (const c of closers) await c();
  });

  it('frames the three payload length forms the way a ws client reads them, in order with ws.send', async () => {
    const p = await pair(20);
    closers.push(p.close);
    // < 126 bytes, 126..65535 (16-bit length), > 65535 (64-bit length), and UTF-8 beyond ASCII.
    const texts = ['["é"]', JSON.stringify(['x'.repeat(125)]), JSON.stringify(['m'.repeat(3000)]), JSON.stringify(['L'.repeat(70_000)]), JSON.stringify(['漢字 ok'])];
    const raw0 = frameWrites.raw;
    for (const [i, text] of texts.entries()) {
      const frame = SharedFrame.of(JSON.parse(text));
      for (const ws of p.servers) {
        assert.equal(writeRaw(ws, frame), true);
        if (i === 1) ws.send(`{"between":${i}}`); // ws's own sends interleave in order
      }
    }
    assert.equal(frameWrites.raw - raw0, texts.length * p.servers.length);
    const expected = [texts[0], texts[1], '{"between":1}', ...texts.slice(2)];
    await until('every client to read every frame', () => p.received.every((r) => r.length === expected.length));
    for (const got of p.received) {
      assert.deepEqual(got.map((m) => m.text), expected);
      assert.ok(got.every((m) => !m.binary), 'text frames');
    }
    // The clients are still fine: they answer the server (no protocol error closed them).
    for (const c of p.clients) assert.equal(c.readyState, WebSocket.OPEN);
  });

  it('builds the same bytes as the standard framing (header lengths 2, 4 and 10)', () => {
    for (const [n, header] of [[0, 2], [125, 2], [126, 4], [65_535, 4], [65_536, 10]] as const) {
      const frame = textFrame(Buffer.alloc(n, 0x61));
      assert.equal(frame.length, n + header);
      assert.equal(frame[0], 0x81);
      if (header === 2) assert.equal(frame[1], n);
      if (header === 4) assert.deepEqual([frame[1], frame.readUInt16BE(2)], [126, n]);
      if (header === 10) assert.deepEqual([frame[1], frame.readBigUInt64BE(2)], [127, BigInt(n)]);
    }
  });

  it('refuses the raw write when the client negotiated permessage-deflate (the caller falls back to ws.send)', async () => {
    const p = await pair(2, { threshold: 0 });
    closers.push(p.close);
    const frame = SharedFrame.of([{ v: 1, type: 'chat', text: 'deflated' }]);
    for (const ws of p.servers) {
      assert.notEqual(ws.extensions, '');
      assert.equal(writeRaw(ws, frame), false);
      ws.send(frame.payload, { binary: false });
    }
    await until('the fallback frames', () => p.received.every((r) => r.length === 1));
    for (const got of p.received) assert.equal(got[0]!.text, '[{"v":1,"type":"chat","text":"deflated"}]');
  });

  it('refuses the raw write on a closing socket', async () => {
    const p = await pair(1);
    closers.push(p.close);
    const ws = p.servers[0]!;
    ws.close(1000, 'bye');
    assert.equal(writeRaw(ws, SharedFrame.of(['late'])), false);
  });
});
