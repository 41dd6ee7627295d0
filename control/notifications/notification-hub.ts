import type { WebSocket } from 'ws';
import type { Logger } from '../../core/logging/logger.js';
import type { Delivery, PubSub, Unsubscribe } from '../../core/pubsub/pubsub.port.js';
import { notificationChannel, type NotifyMessage } from './notification-push.js';

interface UserEntry {
  sockets: Set<WebSocket>;
  subscribed: Promise<Unsubscribe | null>;
  counting: boolean;
  recount: boolean;
}

/** A socket whose unsent bytes pass this is closed (1013): a client that does not read cannot grow our memory. */
const MAX_BUFFERED = 256 * 1024;

/**
 * This node's notification sockets, by user. The first socket of a user subscribes this node to
 * the user's channel, the last one to close unsubscribes it, so a node receives only the
 * notifications of users it serves. Frames (one JSON object each):
 *   {"v":1,"type":"unread","count":N}                 on connect, and after each change
 *   {"v":1,"type":"notification","notification":{}}  an item as GET /api/v1/notifications lists it
 *   {"v":1,"type":"pong","t":..}                      answer to a client's {"v":1,"type":"ping"}
 * Unread counts are read from the database by the node holding the socket, one count per user at a
 * time (changes arriving meanwhile are folded into one more count).
 */
export class NotificationHub {
  private readonly users = new Map<string, UserEntry>();
  private readonly alive = new WeakMap<WebSocket, boolean>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly deps: {
    pubsub: PubSub;
    unreadCount(userId: string): Promise<number>;
    pingIntervalMs: number;
    log: Logger;
  }) {}

  /** Sockets open on this node. */
  get socketCount(): number {
    let n = 0;
    for (const e of this.users.values()) n += e.sockets.size;
    return n;
  }

  /** Users this node is subscribed for (tests). */
  get userCount(): number {
    return this.users.size;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.pingAll(), this.deps.pingIntervalMs);
    this.timer.unref();
  }

  async open(ws: WebSocket, userId: string): Promise<void> {
    this.alive.set(ws, true);
    ws.on('pong', () => this.alive.set(ws, true));
    ws.on('message', (data, isBinary) => this.onClientFrame(ws, data.toString(), isBinary));
    ws.once('close', () => void this.detach(ws, userId));
    ws.on('error', () => ws.terminate());
    let entry = this.users.get(userId);
    if (!entry) {
      const created: UserEntry = { sockets: new Set(), subscribed: Promise.resolve(null), counting: false, recount: false };
      created.subscribed = this.deps.pubsub.subscribe(notificationChannel(userId), (d) => this.onDelivery(userId, d)).catch((err: unknown) => {
        this.deps.log.warn({ err, userId }, 'subscribing to the notification channel failed');
        return null;
      });
      this.users.set(userId, created);
      entry = created;
    }
    entry.sockets.add(ws);
    // Subscribed first, counted after: a notification landing in between is counted (and pushed).
    const sub = await entry.subscribed;
    if (!sub) {
      ws.close(1011, 'notifications unavailable');
      return;
    }
    this.countFor(userId);
  }

  private async detach(ws: WebSocket, userId: string): Promise<void> {
    const entry = this.users.get(userId);
    if (!entry || !entry.sockets.delete(ws) || entry.sockets.size > 0) return;
    this.users.delete(userId);
    const unsubscribe = await entry.subscribed;
    await unsubscribe?.().catch((err: unknown) => this.deps.log.warn({ err, userId }, 'unsubscribing from the notification channel failed'));
  }

  private onClientFrame(ws: WebSocket, text: string, isBinary: boolean): void {
    if (isBinary) return void ws.close(1003, 'binary frames are not accepted');
    let m: { v?: unknown; type?: unknown; t?: unknown };
    try {
      m = JSON.parse(text) as typeof m;
    } catch {
      return;
    }
    if (m && m.type === 'ping') this.send(ws, { v: 1, type: 'pong', ...(typeof m.t === 'number' ? { t: m.t } : {}) });
  }

  private onDelivery(userId: string, d: Delivery): void {
    const entry = this.users.get(userId);
    if (!entry) return;
    const m = d.message as unknown as NotifyMessage;
    if (m && m.t === 'n') {
      for (const ws of entry.sockets) this.send(ws, { v: 1, type: 'notification', notification: m.n });
    }
    if (m && (m.t === 'n' || m.t === 'u')) this.countFor(userId);
  }

  private countFor(userId: string): void {
    const entry = this.users.get(userId);
    if (!entry) return;
    if (entry.counting) {
      entry.recount = true;
      return;
    }
    entry.counting = true;
    entry.recount = false;
    this.deps.unreadCount(userId).then((count) => {
      for (const ws of entry.sockets) this.send(ws, { v: 1, type: 'unread', count });
    }, (err: unknown) => this.deps.log.warn({ err, userId }, 'counting unread notifications failed')).finally(() => {
      entry.counting = false;
      if (entry.recount && this.users.get(userId) === entry) this.countFor(userId);
    });
  }

  private send(ws: WebSocket, frame: object): void {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > MAX_BUFFERED) return void ws.close(1013, 'slow consumer');
    ws.send(JSON.stringify(frame));
  }

  private pingAll(): void {
    for (const entry of this.users.values()) {
      for (const ws of entry.sockets) {
        if (!this.alive.get(ws)) {
          ws.terminate();
          continue;
        }
        this.alive.set(ws, false);
        ws.ping();
      }
    }
  }

  /** Stops the pings and drops every subscription (the gateway closes the sockets). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    const entries = [...this.users.values()];
    this.users.clear();
    await Promise.all(entries.map(async (e) => (await e.subscribed)?.().catch(() => undefined)));
  }
}
