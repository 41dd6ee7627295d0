import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../../../core/logging/logger.js';
import { RtmpConn, type RtmpConnDeps } from './conn.js';

export interface RtmpServerOptions extends Omit<RtmpConnDeps, 'log'> {
  host: string;
  port: number;
  log: Logger;
  /** Most simultaneous connections (fuzzers and floods stay bounded). */
  maxConnections?: number;
}

/** The RTMP listener: accepts sockets, keeps the set of conns, closes them all on close(). */
export class RtmpServer {
  private readonly server: Server;
  private readonly conns = new Set<RtmpConn>();
  private readonly log: Logger;

  constructor(private readonly opts: RtmpServerOptions) {
    this.log = opts.log.child({ mod: 'rtmp' });
    this.server = createServer((socket) => this.accept(socket));
    this.server.maxConnections = opts.maxConnections ?? 10_000;
    this.server.on('error', (err) => this.log.error({ err }, 'rtmp listener error'));
  }

  private accept(socket: Socket): void {
    try {
      const conn = new RtmpConn(socket, { ...this.opts, log: this.log });
      this.conns.add(conn);
      conn.on('close', () => this.conns.delete(conn));
    } catch (err) {
      this.log.error({ err }, 'could not accept an rtmp connection');
      socket.destroy();
    }
  }

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port, this.opts.host, () => {
        this.server.off('error', reject);
        const addr = this.server.address();
        resolve(typeof addr === 'object' && addr ? addr.port : this.opts.port);
      });
    });
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  async close(): Promise<void> {
    for (const c of [...this.conns]) c.close('closed');
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
