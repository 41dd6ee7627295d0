import type { Router } from 'express';
import type { Cache } from '../../core/cache/cache.port.js';
import type { OnairConfig } from '../../core/config/schema.js';
import type { Database } from '../../core/database/database.js';
import type { Logger } from '../../core/logging/logger.js';
import type { PubSub } from '../../core/pubsub/pubsub.port.js';
import { requireUser } from '../http/auth.middleware.js';
import { WsGateway } from '../ws/ws-gateway.js';
import { authenticateNotification, isNotificationPath } from './notification-auth.js';
import { NotificationFanout, type FanoutResult } from './notification-fanout.js';
import { NotificationHub } from './notification-hub.js';
import { NotificationPush } from './notification-push.js';
import { NotificationStore } from './notification.store.js';
import { NotificationTickets } from './notification-ticket.js';
import { notificationsRoutes } from './notifications.routes.js';

export interface NotificationModule {
  store: NotificationStore;
  push: NotificationPush;
  hub: NotificationHub;
  fanout: NotificationFanout;
  /** The notification sockets' upgrade route on control's WebSocket seam (`/ws/notification[/{uid}]`). */
  gateway: WsGateway;
  routers: Router[];
  start(): void;
  /** Closes the sockets (1001), stops the fan-out after its current chunk, drops the subscriptions. */
  close(): Promise<void>;
}

/** Notifications: the list and read marks, the go-live fan-out worker, and the live socket. */
export function createNotificationModule(deps: {
  config: OnairConfig;
  db: Database;
  /** Holds the socket tickets (single use, every node). */
  cache: Cache;
  pubsub: PubSub;
  auth: { verifyCurrentToken(token: string): Promise<{ id: string }> };
  users: { findById(id: string): Promise<{ id: string } | null> };
  log: Logger;
  onFanoutDone?: (result: FanoutResult) => void;
}): NotificationModule {
  const log = deps.log.child({ mod: 'notifications' });
  const { notifications: settings } = deps.config;
  const store = new NotificationStore(deps.db);
  const push = new NotificationPush({ pubsub: deps.pubsub, store, log });
  const hub = new NotificationHub({ pubsub: deps.pubsub, unreadCount: (userId) => store.unreadCount(userId), pingIntervalMs: settings.pingInterval, log });
  const fanout = new NotificationFanout({ db: deps.db, push, batch: settings.fanoutBatch, leaseMs: settings.fanoutLease, log, onDone: deps.onFanoutDone });
  const tickets = new NotificationTickets({ cache: deps.cache, ttlMs: settings.ticketTtl });
  const authDeps = { verifyJwt: (token: string) => deps.auth.verifyCurrentToken(token), users: deps.users, tickets };
  const gateway = new WsGateway({
    log,
    maxPayload: 1024,
    routes: [{
      matches: (url) => isNotificationPath(url.pathname),
      accept: async (req, url) => {
        const userId = await authenticateNotification(authDeps, req, url);
        return (ws) => void hub.open(ws, userId).catch((err: unknown) => log.warn({ err, userId }, 'opening a notification socket failed'));
      },
    }],
  });
  return {
    store, push, hub, fanout, gateway,
    routers: [notificationsRoutes({ store, push, tickets, guard: [requireUser] })],
    start() {
      hub.start();
      fanout.start();
    },
    async close() {
      await gateway.close();
      await fanout.stop();
      await hub.close();
    },
  };
}
