/**
 * Viewer-side abuse for the fuzz test: what players, tabs and hostile clients do to a playback
 * connection, on every protocol (HTTP-FLV, WS-FLV, RTMP, HLS), over real sockets: abrupt close,
 * half close, a WebSocket Close frame with the TCP connection kept half-open (the one that used to
 * crash the process), RST, never reading, reading in small sips, garbage frames, pipelined requests.
 * Each case ends by itself within a few seconds.
 */
import { connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { RtmpClient } from '../../media/servers/rtmp/client.js';
import { commandMsg } from '../../media/protocols/rtmp/messages.js';

export interface Target {
  httpPort: number;
  rtmpPort: number;
  /** A segment file name from the live HLS playlist (e.g. seg-3.ts), when one is known. */
  segment?: string;
}

export interface ViewerAbuse {
  name: string;
  protocol: 'http-flv' | 'ws-flv' | 'rtmp' | 'hls';
  run(t: Target): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const FLV_GET = 'GET /live/4001.flv?token=good HTTP/1.1\r\nHost: fuzz\r\n\r\n';
const WS_GET = [
  'GET /live/4001.flv?token=good HTTP/1.1', 'Host: fuzz', 'Upgrade: websocket', 'Connection: Upgrade',
  `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`, 'Sec-WebSocket-Version: 13', '', '',
].join('\r\n');

/** A client frame (clients must mask): opcode, payload; `fin` false for a fragment. */
export function wsFrame(opcode: number, payload: Buffer, fin = true): Buffer {
  const mask = randomBytes(4);
  const len = payload.length;
  const head = len < 126 ? Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | len])
    : len < 65536 ? Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | 126, len >> 8, len & 0xff])
      : Buffer.concat([Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | 127, 0, 0, 0, 0]), Buffer.from([len >>> 24, (len >> 16) & 0xff, (len >> 8) & 0xff, len & 0xff])]);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i]! ^= mask[i & 3]!;
  return Buffer.concat([head, mask, body]);
}
const closeFrame = () => wsFrame(0x8, Buffer.from([0x03, 0xe8]));

/** Raw TCP to the HTTP port: sends `request`, resolves once `until` bytes came back (or 3 s passed). */
function raw(port: number, request: string, opts: { halfOpen?: boolean; until?: number } = {}): Promise<Socket> {
  return new Promise((resolve) => {
    const s = connect({ port, host: '127.0.0.1', allowHalfOpen: opts.halfOpen ?? false });
    let got = 0;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.off('data', onData);
      resolve(s);
    };
    const onData = (d: Buffer) => {
      got += d.length;
      if (got >= (opts.until ?? 1)) finish();
    };
    const timer = setTimeout(finish, 3000);
    s.on('data', onData);
    s.on('error', () => {});
    s.on('close', finish);
    s.write(request);
  });
}

/** Reads in small sips: resumes for a moment every `everyMs`, for `forMs`. */
async function sip(s: Socket, everyMs: number, forMs: number): Promise<void> {
  s.on('data', () => {});
  const end = Date.now() + forMs;
  while (Date.now() < end && !s.destroyed) {
    s.pause();
    await sleep(everyMs);
    s.resume();
    await sleep(2);
  }
}

const hold = async (s: Socket, ms: number) => {
  s.pause();
  await sleep(ms);
  s.destroy();
};

async function rtmpPlayer(t: Target): Promise<RtmpClient> {
  const c = await RtmpClient.open('127.0.0.1', t.rtmpPort);
  c.on('error', () => {});
  await c.connect('live');
  c.play('4001?token=good');
  await new Promise((r) => {
    const timer = setTimeout(r, 2000);
    c.on('message', (m) => {
      if (m.typeId === 9) {
        clearTimeout(timer);
        r(undefined);
      }
    });
  });
  return c;
}

const hlsGet = (t: Target, file: string) => `GET /live/4001/${file}?token=good HTTP/1.1\r\nHost: fuzz\r\n\r\n`;

export const VIEWER_ABUSE: ViewerAbuse[] = [
  // WS-FLV
  { name: 'WS Close frame, TCP kept half-open', protocol: 'ws-flv', async run(t) {
    const s = await raw(t.httpPort, WS_GET, { halfOpen: true, until: 2000 });
    s.write(closeFrame());
    s.on('data', () => {});
    await sleep(1500); // the server must not write into the closing socket (it used to recurse)
    s.destroy();
  } },
  { name: 'WS Close frame then RST', protocol: 'ws-flv', async run(t) {
    const s = await raw(t.httpPort, WS_GET, { until: 2000 });
    s.write(closeFrame());
    await sleep(50);
    s.resetAndDestroy();
  } },
  { name: 'WS abrupt close', protocol: 'ws-flv', async run(t) {
    (await raw(t.httpPort, WS_GET, { until: 5000 })).destroy();
  } },
  { name: 'WS RST mid-stream', protocol: 'ws-flv', async run(t) {
    (await raw(t.httpPort, WS_GET, { until: 20_000 })).resetAndDestroy();
  } },
  { name: 'WS half close (FIN), still reading', protocol: 'ws-flv', async run(t) {
    const s = await raw(t.httpPort, WS_GET, { halfOpen: true, until: 2000 });
    s.end();
    s.on('data', () => {});
    await sleep(1000);
    s.destroy();
  } },
  { name: 'WS never reads', protocol: 'ws-flv', async run(t) {
    await hold(await raw(t.httpPort, WS_GET), 4000);
  } },
  { name: 'WS reads in sips', protocol: 'ws-flv', async run(t) {
    const s = await raw(t.httpPort, WS_GET);
    await sip(s, 700, 4000);
    s.destroy();
  } },
  { name: 'WS oversized and garbage frames', protocol: 'ws-flv', async run(t) {
    const s = await raw(t.httpPort, WS_GET, { until: 2000 });
    s.write(wsFrame(0x2, randomBytes(70_000)));
    s.write(randomBytes(300));
    s.write(wsFrame(0x1, Buffer.from([0xff, 0xfe]), false));
    s.write(wsFrame(0x9, randomBytes(200))); // ping over 125 bytes: protocol error
    s.on('data', () => {});
    await sleep(500);
    s.destroy();
  } },
  // HTTP-FLV
  { name: 'FLV abrupt close', protocol: 'http-flv', async run(t) {
    (await raw(t.httpPort, FLV_GET, { until: 5000 })).destroy();
  } },
  { name: 'FLV RST mid-stream', protocol: 'http-flv', async run(t) {
    (await raw(t.httpPort, FLV_GET, { until: 20_000 })).resetAndDestroy();
  } },
  { name: 'FLV half close, still reading', protocol: 'http-flv', async run(t) {
    const s = await raw(t.httpPort, FLV_GET, { halfOpen: true, until: 2000 });
    s.end();
    s.on('data', () => {});
    await sleep(1000);
    s.destroy();
  } },
  { name: 'FLV request then FIN before the answer', protocol: 'http-flv', async run(t) {
    const s = connect({ port: t.httpPort, host: '127.0.0.1', allowHalfOpen: true });
    s.on('error', () => {});
    s.end(FLV_GET);
    s.on('data', () => {});
    await sleep(800);
    s.destroy();
  } },
  { name: 'FLV never reads', protocol: 'http-flv', async run(t) {
    await hold(await raw(t.httpPort, FLV_GET), 4000);
  } },
  { name: 'FLV reads in sips', protocol: 'http-flv', async run(t) {
    const s = await raw(t.httpPort, FLV_GET);
    await sip(s, 700, 4000);
    s.destroy();
  } },
  { name: 'FLV pipelined requests and garbage after the request', protocol: 'http-flv', async run(t) {
    const s = await raw(t.httpPort, FLV_GET + FLV_GET + 'GARBAGE \x00\xff\r\n\r\n', { until: 2000 });
    s.write(randomBytes(2000));
    s.on('data', () => {});
    await sleep(500);
    s.destroy();
  } },
  // RTMP
  { name: 'RTMP abrupt close', protocol: 'rtmp', async run(t) {
    (await rtmpPlayer(t)).close();
  } },
  { name: 'RTMP RST mid-stream', protocol: 'rtmp', async run(t) {
    (await rtmpPlayer(t)).socket.resetAndDestroy();
  } },
  { name: 'RTMP half close, still reading', protocol: 'rtmp', async run(t) {
    const c = await rtmpPlayer(t);
    c.socket.end();
    await sleep(1000);
    c.close();
  } },
  { name: 'RTMP never reads', protocol: 'rtmp', async run(t) {
    await hold((await rtmpPlayer(t)).socket, 4000);
  } },
  { name: 'RTMP reads in sips', protocol: 'rtmp', async run(t) {
    const c = await rtmpPlayer(t);
    await sip(c.socket, 700, 4000);
    c.close();
  } },
  { name: 'RTMP deleteStream, then keeps the socket', protocol: 'rtmp', async run(t) {
    const c = await rtmpPlayer(t);
    c.send(commandMsg(0, 'deleteStream', 5, null, c.streamId));
    await sleep(1000);
    c.close();
  } },
  // HLS
  { name: 'HLS playlist then RST', protocol: 'hls', async run(t) {
    (await raw(t.httpPort, hlsGet(t, 'index.m3u8'))).resetAndDestroy();
  } },
  { name: 'HLS segment, never read', protocol: 'hls', async run(t) {
    await hold(await raw(t.httpPort, hlsGet(t, t.segment ?? 'seg-1.ts').repeat(20)), 3000);
  } },
  { name: 'HLS segment, abrupt close mid-body', protocol: 'hls', async run(t) {
    (await raw(t.httpPort, hlsGet(t, t.segment ?? 'seg-1.ts'), { until: 3000 })).destroy();
  } },
  { name: 'HLS segment in sips', protocol: 'hls', async run(t) {
    const s = await raw(t.httpPort, hlsGet(t, t.segment ?? 'seg-1.ts'));
    await sip(s, 500, 2500);
    s.destroy();
  } },
  { name: 'HLS half close before the answer', protocol: 'hls', async run(t) {
    const s = connect({ port: t.httpPort, host: '127.0.0.1', allowHalfOpen: true });
    s.on('error', () => {});
    s.end(hlsGet(t, 'index.m3u8'));
    s.on('data', () => {});
    await sleep(500);
    s.destroy();
  } },
];
