import type { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { WebSocket, WebSocketServer } from 'ws';
import type { Logger } from '../../../core/logging/logger.js';
import { FLV_HEADER } from '../../protocols/flv/flv-tag.js';
import { authorizePlay, type PlayAuthDeps } from '../../stream/play-auth.js';
import { RETRY_AFTER_S } from '../../stream/overload-guard.js';
import type { PlayersPerAddress } from '../../stream/players-per-address.js';
import type { ViewerRegistry } from '../../stream/viewer-registry.js';
import type { ViewerSink } from '../../stream/viewer-session.js';
import type { MediaPacket } from '../../stream/media-packet.js';

/**
 * ws (~13 modules, ~2-4 MB of RSS) is required on the first WS-FLV upgrade, not at start: a media
 * service nobody plays over WS-FLV never loads it (docs/benchmarks.md, "Media service idle RSS").
 * Synchronously (ws is CommonJS), so the upgrade is handled in the same turn as before; an earlier
 * asynchronous attempt made ws-flv.test.ts miss the first FLV message.
 */
const requireWs = (): typeof import('ws') => createRequire(import.meta.url)('ws') as typeof import('ws');

/**
 * Pings one WS-FLV client may send in one second; past it the client is closed with 1008 (policy
 * violation) and a reason. Browsers send none (a page cannot), proxies and keep-alive libraries one
 * every few seconds; a burst of a hundred at once is answered. Each ping costs a frame's parsing,
 * never a write of its own (PongCoalescer), so the bound is about CPU, far above any real client.
 */
export const MAX_PINGS_PER_SECOND = 1000;

const FLV_PATH = /^\/([A-Za-z0-9_-]{1,64})\/([A-Za-z0-9_.-]{1,128})\.flv$/;
const STATUS_TEXT: Record<number, string> = { 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 429: 'Too Many Requests', 500: 'Internal Server Error', 503: 'Service Unavailable' };

export interface WsFlvDeps extends PlayAuthDeps {
  viewers: ViewerRegistry;
  log: Logger;
  /** Players per client address (ONAIR_MEDIA_PLAYERS_PER_ADDRESS); without it the TCP peer is the client and nothing is capped. */
  players?: PlayersPerAddress;
}

/**
 * Adapts a WebSocket to the viewer sink: one binary message per FLV tag, corked per flush. Once the
 * WebSocket is not open (a Close frame arrived, the TCP connection may stay half-open for ws's 30 s
 * closing timeout) a write fails at once: ViewerSession then ends the viewer and terminates the socket.
 */
class WsSink implements ViewerSink {
  /** One FLV tag per WebSocket message, as WS-FLV players expect: writes are never joined. */
  readonly framesWrites = true;
  /** The TCP connection under the WebSocket (ws keeps it as _socket). */
  readonly socket: Socket;
  constructor(private readonly ws: WebSocket) {
    this.socket = (ws as unknown as { _socket: Socket })._socket;
  }
  write(buf: Buffer, done?: (err?: Error | null) => void): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(buf, { binary: true, compress: false }, done);
    else done?.(new Error('websocket closed'));
  }
  cork(): void {
    this.socket.cork();
  }
  uncork(): void {
    this.socket.uncork();
  }
  get writableLength(): number {
    return this.ws.bufferedAmount;
  }
}

/**
 * Answers a client's pings with at most one pong in flight: a ping that arrives while a pong is still
 * being written is answered by the next pong, with the newest ping's payload (RFC 6455 5.5.3 allows
 * answering only the most recently processed ping). ws's own answer (autoPong) writes a pong per ping
 * and terminates the connection, without a Close frame (the client sees 1006), once 60 of them wait
 * for their write: 61 pings in one TCP segment did it, at any rate, while media was flowing.
 */
class PongCoalescer {
  private inFlight = false;
  private next: Buffer | undefined;
  constructor(private readonly ws: WebSocket) {}

  ping(data: Buffer): void {
    if (this.inFlight) this.next = data;
    else this.send(data);
  }

  private send(data: Buffer): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    this.inFlight = true;
    this.ws.pong(data, false, () => {
      this.inFlight = false;
      const next = this.next;
      this.next = undefined;
      if (next) this.send(next);
    });
  }
}

/**
 * WS-FLV: an upgrade on /{app}/{name}.flv?token=. The play hook answers before the upgrade is
 * accepted: a refusal is a plain HTTP 401/403/404 on the socket, so no frame is ever sent.
 */
export class WsFlvServer {
  private wss: WebSocketServer | undefined;

  constructor(private readonly deps: WsFlvDeps) {}

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): boolean {
    const m = FLV_PATH.exec(url.pathname);
    if (!m || (req.headers.upgrade ?? '').toLowerCase() !== 'websocket') return false;
    socket.on('error', () => socket.destroy());
    this.play(req, socket, head, url, m[1]!, m[2]!).catch((err) => {
      this.deps.log.error({ err }, 'ws-flv play failed');
      rejectUpgrade(socket, 500);
    });
    return true;
  }

  private async play(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL, app: string, streamName: string): Promise<void> {
    const query: Record<string, string> = {};
    let n = 0;
    for (const [k, v] of url.searchParams) if (++n <= 32 && !(k in query)) query[k] = v;
    const { players } = this.deps;
    const clientIp = players ? players.clientOf(req) : req.socket.remoteAddress ?? '';
    // As HTTP-FLV: before the hook, and again after it (ws completes an upgrade without verifyClient
    // in the same turn, so nothing is admitted between that check and start()).
    if (players?.full(streamName, clientIp)) return rejectUpgrade(socket, 429);
    const auth = await authorizePlay(this.deps, { protocol: 'ws-flv', app, streamName, query, clientIp });
    if (socket.destroyed) return;
    if (!auth.ok) {
      rejectUpgrade(socket, auth.status);
      return;
    }
    if (players?.full(auth.stream.name, clientIp)) return rejectUpgrade(socket, 429);
    this.wss ??= new (requireWs().WebSocketServer)({ noServer: true, perMessageDeflate: false, maxPayload: 4096, autoPong: false });
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const stream = auth.stream;
      if (stream.isClosed) {
        ws.close(1000, 'stream ended');
        return;
      }
      const sink = new WsSink(ws);
      /** Set when the client is closed for a ping flood: the 1008 Close frame is on its way, so the socket is not cut under it. */
      let policyClose = false;
      const session = this.deps.viewers.start({
        stream,
        protocol: 'ws-flv',
        clientIp,
        viewerId: auth.viewerId,
        sink,
        socket: sink.socket,
        encode: (p: MediaPacket) => p.flvTag(),
        preamble: [FLV_HEADER(true, true)],
        closeTransport: (reason) => {
          if (reason === 'stream-ended') ws.close(1000, 'stream ended');
          else if (!policyClose) ws.terminate();
        },
      });
      ws.on('close', () => session.end('closed'));
      ws.on('error', () => session.end('closed'));
      const pongs = new PongCoalescer(ws);
      let windowStart = 0;
      let pings = 0;
      ws.on('ping', (data: Buffer) => {
        if (policyClose) return;
        const now = performance.now();
        if (now - windowStart >= 1000) {
          windowStart = now;
          pings = 0;
        }
        if (++pings <= MAX_PINGS_PER_SECOND) return pongs.ping(data);
        policyClose = true;
        this.deps.log.warn({ stream: stream.name, ip: clientIp }, 'ws-flv viewer closed: ping flood');
        ws.close(1008, 'too many pings');
        // The Close frame is written at once; a client still flooding instead of answering it is cut after a second.
        setTimeout(() => ws.terminate(), 1000).unref();
        session.end('closed');
      });
    });
  }

  close(): void {
    if (!this.wss) return;
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
  }
}

function rejectUpgrade(socket: Duplex, status: number): void {
  if (socket.destroyed) return;
  const body = JSON.stringify({ error: { code: String(status), message: STATUS_TEXT[status] ?? 'error' } });
  // 503: the engine is behind (OverloadGuard); 429: the address holds its players of the stream. The client may come back after Retry-After.
  const retry = status === 503 || status === 429 ? `Retry-After: ${RETRY_AFTER_S}\r\n` : '';
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${retry}Connection: close\r\n\r\n${body}`,
  );
}
