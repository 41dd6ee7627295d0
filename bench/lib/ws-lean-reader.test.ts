import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { FrameReader, clientFrame, connectLean } from './ws-lean-reader.js';

/** What the `ws` server sends, in order: short, 16-bit and 64-bit length texts, a ping, binary, a fragmented text, a close. */
const SHORT = 'hello';
const MID = 'm'.repeat(200) + 'é';
const LONG = Array.from({ length: 70_000 }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
const EXPECTED = [`text ${SHORT}`, `text ${MID}`, `text ${LONG}`, 'ping p1', 'binary 010203', 'text part-one+part-two', 'close 4001 bye'];

async function script(ws: WebSocket): Promise<void> {
  const sent = (f: (cb: (err?: Error) => void) => void) => new Promise<void>((resolve, reject) => f((err) => (err ? reject(err) : resolve())));
  await sent((cb) => ws.send(SHORT, cb));
  await sent((cb) => ws.send(MID, cb));
  await sent((cb) => ws.send(LONG, cb));
  await sent((cb) => ws.ping('p1', undefined, cb));
  await sent((cb) => ws.send(Buffer.from([1, 2, 3]), cb));
  await sent((cb) => ws.send('part-one+', { fin: false }, cb));
  await sent((cb) => ws.send('part-two', { fin: true }, cb));
  ws.close(4001, 'bye');
}

function recorder() {
  const events: string[] = [];
  const reader = new FrameReader({
    onMessage: (p, op) => events.push(op === 1 ? `text ${p.toString('utf8')}` : `binary ${p.toString('hex')}`),
    onPing: (p) => events.push(`ping ${p.toString()}`),
    onClose: (code, reason) => events.push(`close ${code} ${reason}`),
    onError: (err) => events.push(`error ${err.message}`),
  });
  return { events, reader };
}

/**
 * Feeds the chunks through one scratch buffer reused for every push (as the shared read buffer is),
 * in turn as a view of the chunk and as the whole buffer with the chunk's length (the rest garbage).
 */
function feed(reader: FrameReader, bytes: Buffer, cuts: number[]): void {
  const scratch = Buffer.alloc(bytes.length + 16, 0xee);
  let from = 0;
  let i = 0;
  for (const to of [...cuts, bytes.length]) {
    if (to <= from) continue;
    bytes.copy(scratch, 0, from, to);
    if (i++ % 2 === 0) reader.push(scratch.subarray(0, to - from));
    else reader.push(scratch, to - from);
    scratch.fill(0xee); // a reader that kept a view of the chunk sees garbage
    from = to;
  }
}

describe('bench lean WebSocket reader, against the real ws server', { timeout: 30_000 }, () => {
  let wss: WebSocketServer;
  let port: number;
  const serverSide: WebSocket[] = [];
  /** The raw bytes the ws server sent after its 101 (the frames of `script`). */
  let wire: Buffer;

  before(async () => {
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, verifyClient: (info: { req: { url?: string } }) => !info.req.url?.includes('refuse') });
    await once(wss, 'listening');
    port = (wss.address() as AddressInfo).port;
    wss.on('connection', (ws, req) => {
      serverSide.push(ws);
      if (req.url?.includes('script')) void script(ws);
    });
    // Capture the wire: a hand-made upgrade over a bare TCP socket, every byte kept.
    const sock = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    // The script ends with the server's close frame (4001 'bye'); seen, the socket is dropped (no close handshake to wait for).
    const closeFrame = Buffer.from([0x88, 5, 0x0f, 0xa1, ...Buffer.from('bye')]);
    const ended = new Promise<void>((resolve) => sock.on('data', (c: Buffer) => {
      chunks.push(c);
      if (Buffer.concat(chunks).subarray(-closeFrame.length).equals(closeFrame)) resolve();
    }));
    await once(sock, 'connect');
    sock.write(`GET /script HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    await ended;
    sock.destroy();
    const all = Buffer.concat(chunks);
    wire = all.subarray(all.indexOf('\r\n\r\n') + 4);
  });
  after(async () => {
    for (const ws of serverSide) ws.terminate();
    await new Promise((r) => wss.close(r));
  });

  it('reads the frames when they come in one chunk (several frames per chunk)', () => {
    const { events, reader } = recorder();
    feed(reader, wire, []);
    assert.deepEqual(events, EXPECTED);
    assert.ok(wire.includes(Buffer.from([0x81, 126])), 'the wire has a 16-bit length frame');
    assert.ok(wire.includes(Buffer.from([0x81, 127])), 'the wire has a 64-bit length frame');
  });

  it('reads the frames one byte at a time', () => {
    const { events, reader } = recorder();
    feed(reader, wire, Array.from({ length: wire.length }, (_, i) => i));
    assert.deepEqual(events, EXPECTED);
  });

  it('reads the frames cut in two at every point of the headers and the small frames', () => {
    const longAt = wire.indexOf(Buffer.from([0x81, 127]));
    const cuts = [...Array.from({ length: longAt + 20 }, (_, i) => i), ...Array.from({ length: 200 }, (_, i) => wire.length - 200 + i)];
    for (const cut of cuts) {
      const { events, reader } = recorder();
      feed(reader, wire, [cut]);
      assert.deepEqual(events, EXPECTED, `cut at ${cut}`);
    }
  });

  it('refuses a masked server frame', () => {
    const { events, reader } = recorder();
    reader.push(Buffer.from([0x81, 0x81, 1, 2, 3, 4, 0x61]));
    assert.match(events[0] ?? '', /^error .*masked/);
  });

  it('connects with a real upgrade, answers pings with pongs, sends masked text, echoes the close', { timeout: 10_000 }, async () => {
    const got: string[] = [];
    let closed: [number, string] | undefined;
    const conn = once(wss, 'connection') as Promise<[WebSocket]>;
    const lean = await connectLean({
      port, path: '/plain',
      onMessage: (p, at) => {
        assert.ok(at > 0 && at <= performance.now());
        got.push(p.toString('utf8'));
      },
      onClose: (code, reason) => { closed = [code, reason]; },
    });
    const [server] = await conn;
    const fromClient = once(server, 'message') as Promise<[Buffer]>;
    lean.sendText('from the client');
    assert.equal((await fromClient)[0].toString(), 'from the client');
    const pong = once(server, 'pong') as Promise<[Buffer]>;
    server.ping('hb-42');
    assert.equal((await pong)[0].toString(), 'hb-42');
    server.send(SHORT);
    server.send(MID);
    server.send(LONG);
    const serverClosed = once(server, 'close') as Promise<[number, Buffer]>;
    server.close(4002, 'done');
    const [code] = await serverClosed;
    assert.equal(code, 4002, 'the client echoed the close code');
    assert.deepEqual(got, [SHORT, MID, LONG]);
    assert.deepEqual(closed, [4002, 'done']);
  });

  it('injects bytes through its read path without sending them, and masks each frame with a new key', { timeout: 10_000 }, async () => {
    const got: string[] = [];
    const conn = once(wss, 'connection') as Promise<[WebSocket]>;
    const lean = await connectLean({ port, path: '/plain', onMessage: (p) => got.push(p.toString('utf8')) });
    const [server] = await conn;
    const fromServer: string[] = [];
    server.on('message', (m: Buffer) => fromServer.push(m.toString()));
    // A server text frame (unmasked, 16-bit length), parsed as if read from the socket.
    lean.inject(Buffer.concat([Buffer.from([0x81, 126, 0, MID.length + 1]), Buffer.from(MID)]));
    lean.inject(Buffer.concat([Buffer.from([0x81, SHORT.length]), Buffer.from(SHORT)]));
    assert.deepEqual(got, [MID, SHORT]);
    // The server hears nothing of it; what the client does send arrives intact.
    lean.sendText('after');
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(fromServer, ['after']);
    const masks = new Set(Array.from({ length: 64 }, () => clientFrame(0xa, Buffer.alloc(0)).subarray(2, 6).toString('hex')));
    assert.ok(masks.size >= 63, `a new masking key per frame (${masks.size} distinct of 64)`);
    lean.terminate();
  });

  it('answers a heartbeat round on many sockets: every ping gets its own pong, the round paced over timer turns', { timeout: 20_000 }, async () => {
    const N = 250; // more than one turn's pongs
    const conns: Promise<[WebSocket]>[] = [];
    const leans = [];
    for (let i = 0; i < N; i++) {
      conns.push(once(wss, 'connection') as Promise<[WebSocket]>);
      leans.push(await connectLean({ port, path: '/plain', onMessage: () => {} }));
    }
    const servers = (await Promise.all(conns)).map(([ws]) => ws);
    const pongs = servers.map((ws, i) => (once(ws, 'pong') as Promise<[Buffer]>).then(([p]) => assert.equal(p.toString(), `hb-${i}`)));
    servers.forEach((ws, i) => ws.ping(`hb-${i}`));
    await Promise.all(pongs);
    for (const lean of leans) lean.terminate();
  });

  it('rejects when the server refuses the upgrade', async () => {
    await assert.rejects(connectLean({ port, path: '/refuse', onMessage: () => {} }), /upgrade refused: HTTP\/1\.1 401/);
  });
});
