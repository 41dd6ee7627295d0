/**
 * A lean WebSocket client for the benchmarks' reading sockets (bench:chat): a real RFC 6455 client
 * (HTTP upgrade with Sec-WebSocket-Key, the server's Sec-WebSocket-Accept checked, real frames from the
 * server), with a read path that costs the client as little as it can, so that a benchmark with
 * thousands of readers in one process measures the server and not its own reader.
 *
 * Why not the `ws` client: per message it runs a Writable stream (the Receiver), an EventEmitter,
 * a Buffer concat and a UTF-8 check, ~24 us of CPU per delivery at 5,000 sockets (docs/benchmarks.md),
 * more than the server's ~11 us to write it. Here:
 *   - every socket reads into ONE shared buffer (net.connect's `onread`): no Buffer and no stream
 *     chunk per read; the callback runs synchronously, so the frames are parsed before the next read
 *     can reuse the buffer; only the unfinished tail of a frame split across reads is copied out;
 *   - `FrameReader` parses frames in place and hands each complete message's payload to `onMessage`
 *     as a view (valid during the call only), with the time it completed: the delivery timestamp is
 *     taken when the client holds the whole frame, as with `ws`;
 *   - pings are answered with a masked pong carrying the same payload (control's heartbeat sends
 *     WebSocket pings), paced across timer turns (queuePong); a close is answered with a close (the
 *     server's code echoed) and ends the socket.
 * Text is not UTF-8 validated and fragmented messages are joined (the server does not fragment).
 */
import { connect, createServer, type Socket } from 'node:net';
import { createHash, randomBytes, randomFillSync } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export interface FrameHandlers {
  /** A complete text or binary message; `payload` is a view valid only during the call. */
  onMessage(payload: Buffer, opcode: 1 | 2): void;
  onPing(payload: Buffer): void;
  onClose(code: number, reason: string): void;
  onError(err: Error): void;
}

/**
 * RFC 6455 frames from a server (unmasked), pushed in any chunking: bytes in, messages out. A chunk
 * passed to push() may be reused by the caller after the call: what is left of an unfinished frame
 * is copied.
 */
export class FrameReader {
  private pending: Buffer | undefined;
  private fragments: Buffer[] = [];
  private fragmentOpcode: 1 | 2 = 1;
  private closed = false;

  constructor(private readonly on: FrameHandlers) {}

  /** Parses chunk[0, length) (length: the whole chunk by default; the shared read buffer passes the bytes read). */
  push(chunk: Buffer, length = chunk.length): void {
    if (this.closed) return;
    let buf = chunk;
    let end = length;
    if (this.pending) {
      buf = Buffer.concat([this.pending, chunk.subarray(0, length)]);
      end = buf.length;
      this.pending = undefined;
    }
    let off = 0;
    while (off < end) {
      if (end - off < 2) break;
      const b0 = buf[off]!;
      const b1 = buf[off + 1]!;
      if (b1 & 0x80) return this.fail('a server frame is masked');
      if (b0 & 0x70) return this.fail('reserved bits set');
      let len = b1 & 0x7f;
      let head = 2;
      if (len === 126) {
        if (end - off < 4) break;
        len = buf.readUInt16BE(off + 2);
        head = 4;
      } else if (len === 127) {
        if (end - off < 10) break;
        const hi = buf.readUInt32BE(off + 2);
        if (hi > 0x1fffff) return this.fail('frame length over 2^53');
        len = hi * 2 ** 32 + buf.readUInt32BE(off + 6);
        head = 10;
      }
      if (end - off - head < len) break;
      const payload = buf.subarray(off + head, off + head + len);
      off += head + len;
      const fin = (b0 & 0x80) !== 0;
      const opcode = b0 & 0x0f;
      if (opcode === 1 || opcode === 2) {
        if (this.fragments.length > 0) return this.fail('a new message inside a fragmented one');
        if (fin) this.on.onMessage(payload, opcode);
        else {
          this.fragmentOpcode = opcode;
          this.fragments.push(Buffer.from(payload));
        }
      } else if (opcode === 0) {
        if (this.fragments.length === 0) return this.fail('a continuation without a message');
        this.fragments.push(Buffer.from(payload));
        if (fin) {
          const whole = Buffer.concat(this.fragments);
          this.fragments = [];
          this.on.onMessage(whole, this.fragmentOpcode);
        }
      } else if (opcode === 9) {
        this.on.onPing(payload);
      } else if (opcode === 8) {
        this.closed = true;
        const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        this.on.onClose(code, payload.length > 2 ? payload.toString('utf8', 2) : '');
        return;
      } else if (opcode !== 10) {
        return this.fail(`unknown opcode ${opcode}`);
      }
      if (this.closed) return;
    }
    if (off < end) this.pending = Buffer.from(buf.subarray(off, end));
  }

  private fail(why: string): void {
    this.closed = true;
    this.on.onError(new Error(`websocket: ${why}`));
  }
}

/** A masked client frame (FIN set): pong, close or text. */
export function clientFrame(opcode: number, payload: Buffer): Buffer {
  const len = payload.length;
  const head = len < 126 ? 2 : len < 65536 ? 4 : 10;
  const out = Buffer.allocUnsafe(head + 4 + len);
  out[0] = 0x80 | opcode;
  if (head === 2) out[1] = 0x80 | len;
  else if (head === 4) {
    out[1] = 0x80 | 126;
    out.writeUInt16BE(len, 2);
  } else {
    out[1] = 0x80 | 127;
    out.writeUInt32BE(Math.floor(len / 2 ** 32), 2);
    out.writeUInt32BE(len >>> 0, 6);
  }
  const m = nextMask();
  out[head] = MASKS[m]!;
  out[head + 1] = MASKS[m + 1]!;
  out[head + 2] = MASKS[m + 2]!;
  out[head + 3] = MASKS[m + 3]!;
  for (let i = 0; i < len; i++) out[head + 4 + i] = payload[i]! ^ MASKS[m + (i & 3)]!;
  return out;
}

/**
 * Masking keys, 4 bytes each from a random pool refilled when used up: a heartbeat round is one pong
 * per socket (5,000 at once in bench:chat), and one crypto call per pong was a cost of its own.
 */
const MASKS = Buffer.alloc(4096);
let maskAt = MASKS.length;
function nextMask(): number {
  if (maskAt === MASKS.length) {
    randomFillSync(MASKS);
    maskAt = 0;
  }
  const m = maskAt;
  maskAt += 4;
  return m;
}

/** Writes a masked client frame on a socket: the one write path of pongs, closes and texts. */
function sendFrame(socket: Socket, opcode: number, payload: Buffer): void {
  socket.write(clientFrame(opcode, payload));
}

/**
 * Pongs are paced: at most PONGS_PER_TURN are written per timer turn, the rest wait for the next.
 * Why: every lean socket of a bench lives in one process on one core, so a server's heartbeat round
 * (a ping to each of 5,000 sockets within a few tens of ms) made the process write 5,000 pongs back
 * to back (~65 ms, loaded), and a chat message read during it was timed as late as the server's
 * (bench:chat, 2026-11-28). Real viewers answer on their own devices. Paced, a message waits one
 * turn's writes at most (~1-2 ms); the pongs still go out well inside any heartbeat timeout
 * (5,000 pongs: ~50 turns).
 */
const PONGS_PER_TURN = 100;
const PONG_TURN_MS = 2;
const pongQueue: { socket: Socket; payload: Buffer }[] = [];
let pongAt = 0;
let pongTimer: NodeJS.Timeout | undefined;

function queuePong(socket: Socket, payload: Buffer): void {
  pongQueue.push({ socket, payload });
  pongTimer ??= setTimeout(drainPongs, 0);
}

function drainPongs(): void {
  const end = Math.min(pongQueue.length, pongAt + PONGS_PER_TURN);
  for (; pongAt < end; pongAt++) {
    const { socket, payload } = pongQueue[pongAt]!;
    if (!socket.destroyed) sendFrame(socket, 0xa, payload);
  }
  if (pongAt < pongQueue.length) {
    pongTimer = setTimeout(drainPongs, PONG_TURN_MS);
    return;
  }
  pongQueue.length = 0;
  pongAt = 0;
  pongTimer = undefined;
}

/**
 * Runs a reader socket's I/O paths `count` times on a loopback connection of its own, so that V8 has
 * compiled them before a benchmark measures: the write of a pong (clientFrame, then a socket write;
 * the first heartbeat round otherwise recompiles Node's Writable/net write functions, ~30-55 ms of
 * TurboFan on the clients' core in bench:chat, seen with --trace-opt) and the read of a frame through
 * `onread` into the shared buffer (Node's onStreamRead was first compiled on the burst's first or
 * second message, ~50-60 ms loaded). A sink echoes what it gets; nothing reaches a server.
 */
export async function warmReaderIo(count = 20_000): Promise<void> {
  const sink = createServer((s) => { s.on('data', (d: Buffer) => s.write(d)); s.on('error', () => {}); });
  sink.listen(0, '127.0.0.1');
  await once(sink, 'listening');
  let echoed = 0;
  // Made as the readers' sockets are (onread into the shared buffer), so both paths meet the same kind of socket.
  const socket = connect({
    host: '127.0.0.1', port: (sink.address() as AddressInfo).port,
    onread: { buffer: SHARED, callback: (n: number) => { echoed += n; return true; } },
  });
  await once(socket, 'connect');
  socket.setNoDelay(true);
  const payload = Buffer.alloc(0);
  const frameLength = clientFrame(0xa, payload).length;
  const deadline = Date.now() + 5000;
  for (let i = 0; i < count && Date.now() < deadline; i++) {
    sendFrame(socket, 0xa, payload);
    // A few frames at a time, each batch read back before the next: many reads, not one big one.
    if (i % 8 === 7) {
      while (echoed < (i + 1) * frameLength && Date.now() < deadline) await new Promise((resolve) => setImmediate(resolve));
    }
  }
  socket.destroy();
  sink.close();
}

export interface LeanSocket {
  readonly socket: Socket;
  /** Sends a masked text frame. */
  sendText(text: string): void;
  /** Drops the TCP connection at once (as ws.terminate()). */
  terminate(): void;
  /**
   * Parses bytes as if this socket had read them (nothing is sent or received): a benchmark runs its
   * read path on synthetic frames before it measures, so V8's first-time work on that path (type
   * feedback, deoptimisation, recompiling) is not timed as the server's (bench/chat.ts, warmReaders).
   */
  inject(bytes: Buffer): void;
}

export interface LeanOptions {
  port: number;
  /** Path and query, e.g. `/ws?token=...&room_id=...`. */
  path: string;
  /** Each complete message, with the time (performance.now()) the client held the whole frame. */
  onMessage(payload: Buffer, at: number): void;
  onClose?(code: number, reason: string): void;
}

/** One shared read buffer for every lean socket of the process (reads are handled synchronously). */
const SHARED = Buffer.allocUnsafe(256 * 1024);

/** Opens a lean client: resolves once the server's 101 is checked; rejects on refusal or error. */
export function connectLean(opts: LeanOptions): Promise<LeanSocket> {
  return new Promise((resolve, reject) => {
    const key = randomBytes(16).toString('base64');
    const accept = createHash('sha1').update(key + GUID).digest('base64');
    let header: Buffer | undefined = Buffer.alloc(0);
    let settled = false;
    let closing = false;
    const fail = (err: Error) => {
      socket.destroy();
      if (!settled) {
        settled = true;
        reject(err);
      }
    };
    const frames = new FrameReader({
      onMessage: (payload) => opts.onMessage(payload, performance.now()),
      onPing: (payload) => { if (!closing) queuePong(socket, Buffer.from(payload)); },
      onClose: (code, reason) => {
        if (!closing) {
          closing = true;
          const body = Buffer.alloc(code === 1005 ? 0 : 2);
          if (body.length) body.writeUInt16BE(code, 0);
          socket.end(clientFrame(0x8, body));
        }
        opts.onClose?.(code, reason);
      },
      onError: (err) => fail(err),
    });
    const lean: LeanSocket = {
      get socket() { return socket; },
      sendText: (text) => { sendFrame(socket, 0x1, Buffer.from(text)); },
      terminate: () => { socket.destroy(); },
      // Through the shared read buffer, as a real read (the same objects reach the parser and the handler).
      inject: (bytes) => {
        const n = bytes.copy(SHARED);
        frames.push(SHARED, n);
      },
    };
    const socket = connect({
      host: '127.0.0.1',
      port: opts.port,
      onread: {
        buffer: SHARED,
        callback: (n: number, buf: Uint8Array) => {
          if (header === undefined) {
            frames.push(buf as Buffer, n);
            return true;
          }
          header = Buffer.concat([header, (buf as Buffer).subarray(0, n)]);
          const at = header.indexOf('\r\n\r\n');
          if (at === -1) {
            if (header.length > 16384) fail(new Error('websocket: upgrade answer too long'));
            return true;
          }
          const lines = header.subarray(0, at).toString('latin1').split('\r\n');
          const rest = header.subarray(at + 4);
          header = undefined;
          if (!/^HTTP\/1\.1 101 /.test(lines[0] ?? '')) {
            fail(new Error(`websocket: upgrade refused: ${lines[0]}`));
            return false;
          }
          const got = lines.find((l) => /^sec-websocket-accept:/i.test(l))?.slice(21).trim();
          if (got !== accept) {
            fail(new Error('websocket: wrong Sec-WebSocket-Accept'));
            return false;
          }
          settled = true;
          resolve(lean);
          if (rest.length > 0) frames.push(rest);
          return true;
        },
      },
    });
    socket.setNoDelay(true);
    socket.once('connect', () => {
      socket.write(`GET ${opts.path} HTTP/1.1\r\nHost: 127.0.0.1:${opts.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`
        + `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    });
    socket.on('error', (err) => fail(err));
    socket.on('close', () => {
      if (!settled) fail(new Error('websocket: closed before the upgrade'));
      else if (!closing) {
        closing = true;
        opts.onClose?.(1006, '');
      }
    });
  });
}
