import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

/**
 * One chat frame written to many sockets: the JSON text is encoded once, and the WebSocket frame
 * (header + payload, unmasked as a server sends it, no compression) is built once on first use, so
 * each socket costs one `write` of the same bytes instead of `ws.send` re-framing per socket.
 */
export class SharedFrame {
  private wireBytes: Buffer | undefined;

  constructor(readonly payload: Buffer) {}

  static of(messages: unknown): SharedFrame {
    return new SharedFrame(Buffer.from(JSON.stringify(messages)));
  }

  /** The whole text frame as one buffer (built once, shared by every socket). */
  get wire(): Buffer {
    this.wireBytes ??= textFrame(this.payload);
    return this.wireBytes;
  }
}

/** A final, unmasked, uncompressed text frame (RFC 6455 5.2), as `ws`'s Sender frames what a server sends. */
export function textFrame(payload: Buffer): Buffer {
  const n = payload.length;
  const headerLength = n < 126 ? 2 : n <= 0xffff ? 4 : 10;
  const out = Buffer.allocUnsafe(headerLength + n);
  out[0] = 0x81; // FIN + opcode 1 (text)
  if (n < 126) {
    out[1] = n;
  } else if (n <= 0xffff) {
    out[1] = 126;
    out.writeUInt16BE(n, 2);
  } else {
    out[1] = 127;
    out.writeUInt32BE(Math.floor(n / 2 ** 32), 2);
    out.writeUInt32BE(n >>> 0, 6);
  }
  payload.copy(out, headerLength);
  return out;
}

/** Frames written by writeRaw and by the ws.send fallback in this process (for tests and the benchmark). */
export const frameWrites = { raw: 0, fallback: 0 };

/** The parts of a `ws` WebSocket the raw write relies on (ws 8's internals, checked at each write). */
interface WsInternals {
  _socket?: Socket | null;
  _sender?: { _state?: number; _firstFragment?: boolean; _queue?: unknown[] } | null;
}

/**
 * Writes a prebuilt frame straight to the socket under `ws` when that is exactly what `ws.send`
 * would write: the socket is open, no extension (permessage-deflate) was negotiated, and ws's
 * sender has nothing queued or half-sent (so the bytes cannot interleave with its own). Returns
 * false when it cannot: the caller then uses `ws.send`.
 */
export function writeRaw(ws: WebSocket, frame: SharedFrame): boolean {
  const w = ws as unknown as WsInternals;
  const socket = w._socket;
  const sender = w._sender;
  if (!socket || !sender || ws.readyState !== ws.OPEN || socket.destroyed || !socket.writable || ws.extensions !== ''
    || sender._state !== 0 || sender._firstFragment !== true || (sender._queue?.length ?? 0) > 0) {
    frameWrites.fallback++;
    return false;
  }
  socket.write(frame.wire);
  frameWrites.raw++;
  return true;
}
