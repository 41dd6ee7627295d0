import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../../../core/logging/logger.js';
import { RtmpConn, type RtmpConnDeps } from './conn.js';
import { RtmpAdmission, type AdmissionLimits, type RtmpRefusal } from './admission.js';
import { LISTEN_BACKLOG } from '../listen-backlog.js';

export interface RtmpServerOptions extends Omit<RtmpConnDeps, 'log' | 'admission'> {
  host: string;
  port: number;
  log: Logger;
  /** Connection caps (see admission.ts). */
  limits: AdmissionLimits;
}

/** The RTMP listener: accepts sockets within the admission limits, keeps the set of conns, closes them all on close(). */
export class RtmpServer {
  private readonly server: Server;
  private readonly conns = new Set<RtmpConn>();
  private readonly admission: RtmpAdmission<RtmpConn>;
  private readonly log: Logger;

  constructor(private readonly opts: RtmpServerOptions) {
    this.log = opts.log.child({ mod: 'rtmp' });
    this.admission = new RtmpAdmission(opts.limits);
    this.server = createServer((socket) => this.accept(socket));
    // A backstop only: admission decides, and sockets it drops take a moment to leave Node's count.
    this.server.maxConnections = opts.limits.max + 1024;
    this.server.on('error', (err) => this.log.error({ err }, 'rtmp listener error'));
  }

  private accept(socket: Socket): void {
    socket.on('error', () => {}); // a reset before the conn takes over
    if (!this.admission.admit(socket.remoteAddress ?? '')) {
      socket.destroy();
      return;
    }
    try {
      const conn = new RtmpConn(socket, { ...this.opts, log: this.log, admission: this.admission });
      this.conns.add(conn);
      this.admission.joined(conn);
      conn.on('close', () => {
        this.conns.delete(conn);
        this.admission.left(conn, conn.isPlayer);
      });
    } catch (err) {
      this.log.error({ err }, 'could not accept an rtmp connection');
      socket.destroy();
    }
  }

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port, this.opts.host, LISTEN_BACKLOG, () => {
        this.server.off('error', reject);
        const addr = this.server.address();
        resolve(typeof addr === 'object' && addr ? addr.port : this.opts.port);
      });
    });
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  /** Connections refused or dropped by the admission limits, by reason. */
  get refusals(): Record<RtmpRefusal, number> {
    return { ...this.admission.refusals };
  }

  async close(): Promise<void> {
    for (const c of [...this.conns]) c.close('closed');
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
