import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { OnairError } from '../../core/errors.js';
import type { Logger } from '../../core/logging/logger.js';
import { statusOf } from '../http/error-handler.js';

/**
 * Control's WebSocket seam: one upgrade handler the composition roots route to (onair.ts before
 * media's WS-FLV, control/main.ts alone). Each route authenticates at upgrade and refuses with a
 * real HTTP status before the handshake completes, so a client learns why (401 bad token, 403
 * kicked, 404 no such session) instead of seeing a socket that opens and closes.
 */
export interface UpgradeRoute {
  /** True when this route serves the path (the gateway then owns the socket). */
  matches(url: URL): boolean;
  /**
   * Authenticates and prepares; throws an OnairError to refuse (its status and code are sent).
   * Returns what to run on the accepted socket. The request is not handed on: whatever the route
   * needs of it (ids, claims) it keeps from here, so the request, its headers and its URL (with the
   * token) are not held for the socket's lifetime.
   */
  accept(req: IncomingMessage, url: URL): Promise<(ws: WebSocket) => void>;
}

export interface WsGatewayOptions {
  routes: UpgradeRoute[];
  log: Logger;
  /** Largest client frame; bigger ones close the socket (1009). */
  maxPayload?: number;
}

/** Until ws takes the socket over (it adds its own error handling), a socket error only closes it. */
function destroyOnError(this: Duplex): void {
  this.destroy();
}

export class WsGateway {
  private readonly wss: WebSocketServer;
  private readonly sockets = new Set<WebSocket>();
  /** One 'close' listener shared by every socket (called with the socket as `this`): no closure per socket. */
  private readonly untrack: (this: WebSocket) => void;
  private closed = false;

  constructor(private readonly options: WsGatewayOptions) {
    // No compression: it costs CPU per socket per frame, and chat frames are small.
    this.wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayload ?? 16 * 1024, perMessageDeflate: false, clientTracking: false });
    const sockets = this.sockets;
    this.untrack = function untrack(this: WebSocket) {
      sockets.delete(this);
    };
  }

  /** How many sockets are open through this gateway. */
  get size(): number {
    return this.sockets.size;
  }

  /** Takes the upgrade when a route matches the path (true), else leaves the socket to the caller (false). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      return false;
    }
    const route = this.options.routes.find((r) => r.matches(url));
    if (!route) return false;
    socket.on('error', destroyOnError);
    if (this.closed) {
      refuse(socket, 503, 'shutting_down', 'the server is shutting down');
      return true;
    }
    if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
      refuse(socket, 400, 'not_websocket', 'expected a WebSocket upgrade');
      return true;
    }
    route.accept(req, url).then((open) => this.complete(req, socket, head, open), (err: unknown) => {
      if (err instanceof OnairError) {
        const status = statusOf(err);
        refuse(socket, status, err.code, status === 500 ? 'internal error' : err.message);
      } else {
        this.options.log.error({ err }, 'WebSocket upgrade failed');
        refuse(socket, 500, 'internal', 'internal error');
      }
    });
    return true;
  }

  /**
   * Completes an accepted upgrade. Kept apart from handleUpgrade on purpose: a listener created in
   * there would hold its scope (the request, its headers, the URL with the token: ~2 KB) for as
   * long as the socket lives. Nothing made here outlives the handshake but the socket itself.
   */
  private complete(req: IncomingMessage, socket: Duplex, head: Buffer, open: (ws: WebSocket) => void): void {
    if (socket.destroyed) return;
    if (this.closed) return refuse(socket, 503, 'shutting_down', 'the server is shutting down');
    this.wss.handleUpgrade(req, socket, head, (ws) => this.adopt(ws, socket, open));
  }

  private adopt(ws: WebSocket, socket: Duplex, open: (ws: WebSocket) => void): void {
    // ws handles the socket's errors from now on.
    socket.removeListener('error', destroyOnError);
    this.sockets.add(ws);
    ws.on('close', this.untrack);
    try {
      open(ws);
    } catch (err) {
      this.options.log.error({ err }, 'opening a WebSocket failed');
      ws.terminate();
    }
  }

  /** Cuts every socket without a close frame and refuses new upgrades (what clients see when a node dies; tests). */
  abort(): void {
    this.closed = true;
    for (const ws of this.sockets) ws.terminate();
  }

  /** Refuses new upgrades and closes every socket with 1001 (clients reconnect elsewhere and resume). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const waits = [...this.sockets].map((ws) => new Promise<void>((resolve) => {
      ws.once('close', () => resolve());
      ws.close(1001, 'server shutting down');
      setTimeout(() => {
        ws.terminate();
        resolve();
      }, 1000).unref();
    }));
    await Promise.all(waits);
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}

/** Answers an upgrade with an HTTP error (JSON body as the API's) and closes the connection. */
export function refuse(socket: Duplex, status: number, code: string, message: string): void {
  if (socket.destroyed) return;
  const body = JSON.stringify({ error: { code, message } });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nConnection: close\r\nContent-Type: application/json\r\n`
    + `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  setTimeout(() => socket.destroy(), 1000).unref();
}
