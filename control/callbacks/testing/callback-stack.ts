import { randomBytes } from 'node:crypto';
import express from 'express';
import type { Registry } from 'prom-client';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { testAdapterSets, type TestPorts, type ConfigOverrides } from '../../../core/testing/test-ports.js';
import { requireEnv } from '../../../core/testing/test-bus.js';
import { DbEventBus } from '../../../core/event-bus/db-event-bus.js';
import { RedisStreamEventBus } from '../../../core/event-bus/redis-stream-event-bus.js';
import type { Consumer, EventBus } from '../../../core/event-bus/event-bus.port.js';
import type { BusEvents } from '../../../core/events/bus-events.js';
import { silentLogger } from '../../../core/logging/logger.js';
import { cssSign } from '../../../core/callbacks/css-signature.js';
import { signCallbackBody } from '../../../core/callbacks/body-signature.js';
import { UserStore } from '../../auth/user.store.js';
import { RoomStore } from '../../rooms/room.store.js';
import { RoomService } from '../../rooms/room.service.js';
import { LiveSessionStore } from '../../live-sessions/live-session.store.js';
import { LiveSessionService } from '../../live-sessions/live-session.service.js';
import { ModerationService } from '../../moderation/moderation.service.js';
import { PublishBanStore } from '../../moderation/publish-ban.store.js';
import { PendingBanService } from '../../moderation/pending-ban.service.js';
import { PendingBanStore } from '../../moderation/pending-ban.store.js';
import { SettlementService } from '../../settlement/settlement.service.js';
import { LiveEventLog } from '../live-event-log.js';
import { createCallbackRouter } from '../callback.routes.js';
import { createCallbackFastPath } from '../callback-fast-path.js';
import { CallbackReceiver } from '../callback-receiver.js';
import { startCallbackConsumer, type CallbackConsumerOptions } from '../callback-consumer.js';
import { EventIntake } from '../event-intake.js';
import type { EventRoutes } from '../../../core/events/event-route.js';
import { NotificationFanout } from '../../notifications/notification-fanout.js';
import { eventCommitHooks, eventRoutes, fanOutRoutes, type EventRouteDeps } from '../../event-routes.js';
import { AudienceService } from '../../audience/audience.service.js';
import { AudienceStore } from '../../audience/audience.store.js';

/**
 * The callback pipeline on real ports for tests: the control helper's services (rooms, sessions,
 * moderation, settlement), the receiver on a real HTTP port, the consumer on the chosen bus.
 * MediaControl is the one stand-in (no engine here): it records kicks.
 */
export interface BusChoice {
  name: string;
  /** Picks the bus for ports of this adapter set; null when the set cannot host it. */
  make(ports: TestPorts): EventBus<BusEvents> | null;
  cleanup?(bus: EventBus<BusEvents>): Promise<void>;
}

export function busChoices(): Array<{ set: ReturnType<typeof testAdapterSets>[number]; bus: BusChoice }> {
  const out: Array<{ set: ReturnType<typeof testAdapterSets>[number]; bus: BusChoice }> = [];
  const redisUrl = requireEnv('ONAIR_TEST_REDIS_URL');
  for (const set of testAdapterSets()) {
    out.push({ set, bus: { name: 'DbEventBus', make: (p) => new DbEventBus<BusEvents>(p.db) } });
    if (set.name !== 'embedded' && redisUrl) {
      const prefix = `onair-test:${randomBytes(4).toString('hex')}:`;
      out.push({
        set,
        bus: {
          name: 'RedisStreamEventBus',
          make: () => new RedisStreamEventBus<BusEvents>({ url: redisUrl, prefix }),
          async cleanup() {
            const b = new RedisStreamEventBus({ url: redisUrl, prefix });
            await b.destroy();
            await b.close();
          },
        },
      });
    }
  }
  return out;
}

export const CALLBACK_KEY = 'test-callback-key';
export const MEDIA_KEY = 'test-media-key';

export interface CallbackStack {
  ports: TestPorts;
  bus: EventBus<BusEvents>;
  events: LiveEventLog;
  consumer: Consumer;
  /** Base URL: /api/v1/callback* is served by the node:http fast path there. */
  url: string;
  /** Base URL where the same receiver is served by the express router (`${routerUrl}/api/v1/callback`). */
  routerUrl: string;
  kicked: string[];
  users: UserStore;
  rooms: RoomStore;
  roomService: RoomService;
  sessionStore: LiveSessionStore;
  sessions: LiveSessionService;
  moderation: ModerationService;
  pendingBans: PendingBanService;
  audience: AudienceService;
  routeDeps: EventRouteDeps;
  /** Where edges hand domain events (bus + live_events + the heartbeat). */
  intake: EventIntake;
  /** Creates an anchor with a room; returns their ids and the room's stream key. */
  anchorWithRoom(name?: string): Promise<{ userId: string; roomId: string; streamKey: string }>;
  /**
   * Posts a signed CSS callback (t = now + 10 min unless given) the way the vendor does (MD5 only),
   * or with onair's body HMAC too (`hmac: true`), plus any extra headers.
   */
  post(body: Record<string, unknown>, options?: { sign?: string; t?: number; base?: string; hmac?: boolean; headers?: Record<string, string> }): Promise<Response>;
  count(table: string, where?: string, params?: unknown[]): Promise<number>;
  close(): Promise<void>;
}

export async function makeCallbackStack(
  set: ReturnType<typeof testAdapterSets>[number], choice: BusChoice,
  options: {
    overrides?: ConfigOverrides; routes?: (r: EventRoutes) => EventRoutes; consume?: CallbackConsumerOptions;
    /** Registry of the receiver's refusal counter. */
    metrics?: Registry; listenHost?: string;
  } = {},
): Promise<CallbackStack> {
  const ports = await set.make({ callbacks: { key: CALLBACK_KEY, mediaKey: MEDIA_KEY }, ...options.overrides });
  const { db, cache, config } = ports;
  const log = silentLogger();
  const bus = choice.make(ports)!;
  const kicked: string[] = [];
  const media = { async kickPublisher(s: string) { kicked.push(s); return true; } };
  const users = new UserStore(db);
  const rooms = new RoomStore(db);
  const sessionStore = new LiveSessionStore(db);
  const roomService = new RoomService({ rooms, users, sessions: sessionStore, cache, config, media, log });
  const settlement = new SettlementService(db, log);
  const moderation = new ModerationService({ bans: new PublishBanStore(db), userExists: async (id) => (await users.findById(id)) !== null, log });
  const pendingBans = new PendingBanService({ store: new PendingBanStore(db), moderation, rooms: roomService, log });
  const sessions = new LiveSessionService({ sessions: sessionStore, rooms, roomService, moderation, cache, media, settlement, config, log, refusalDelayMs: 0 });
  const events = new LiveEventLog(db, { log, flushMs: 10 });
  const audience = new AudienceService(new AudienceStore(db), sessionStore, log);
  // The go-live fan-out worker writes the followers' notifications (no live sockets here: nothing to push to).
  const fanout = new NotificationFanout({ db, push: { byDedupeKey: async () => 0 }, batch: config.notifications.fanoutBatch, leaseMs: config.notifications.fanoutLease, pollMs: 200, log });
  fanout.start();
  const routeDeps: EventRouteDeps = {
    db, rooms, roomService, sessions, sessionStore, moderation, pendingBans, media, audience, settlement, auditPauseMs: config.live.auditPause, log, notifyFanout: fanout,
  };
  let routes = eventRoutes(routeDeps);
  if (options.routes) routes = options.routes(routes);
  const consumer = startCallbackConsumer(bus, { db, cache, events, routes, commitHooks: eventCommitHooks, log },
    { pollIntervalMs: 50, backoffMs: 20, visibilityTimeoutMs: 2000, ...options.consume });
  const intake = new EventIntake({ bus, events, log, fanOut: fanOutRoutes(routeDeps) });
  const receiver = new CallbackReceiver({ bus, callbacks: config.callbacks, trustedProxies: config.http.trustedProxies, events, cache, log, intake, metrics: options.metrics });
  const app = express();
  app.use('/router/api/v1', createCallbackRouter(receiver));
  const fast = createCallbackFastPath(receiver);
  const server: Server = createServer((req, res) => { if (!fast(req, res)) app(req, res); });
  const host = options.listenHost ?? '127.0.0.1';
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${(server.address() as AddressInfo).port}`;
  let n = 0;
  return {
    ports, bus, events, consumer, url, routerUrl: `${url}/router`, kicked, users, rooms, roomService, sessionStore, sessions, moderation, pendingBans, audience, routeDeps, intake,
    async anchorWithRoom(name = `anchor${Date.now().toString(36)}${n++}`) {
      const user = await users.create({ username: name, passwordHash: 'x', role: 'anchor' });
      const { room } = await roomService.create({ id: user.id, username: user.username, role: 'anchor' }, { title: `room of ${name}` });
      return { userId: user.id, roomId: room.id, streamKey: room.streamKey };
    },
    post(body, o = {}) {
      const t = o.t ?? Math.floor(Date.now() / 1000) + 600;
      const text = JSON.stringify({ ...body, t, sign: o.sign ?? cssSign(CALLBACK_KEY, t) });
      return fetch(`${o.base ?? url}/api/v1/callback`, {
        method: 'POST', headers: { 'content-type': 'application/json', ...(o.hmac ? signCallbackBody(CALLBACK_KEY, text) : {}), ...o.headers },
        body: text,
      });
    },
    async count(table, where = '1=1', params = []) {
      const [row] = await db.sequelize.query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${table} WHERE ${where}`, { replacements: params, type: 'SELECT' as never });
      return Number(row!.n);
    },
    async close() {
      await new Promise((r) => server.close(r));
      server.closeAllConnections?.();
      await consumer.stop();
      await fanout.stop();
      await audience.idle(Date.now() + 5000);
      sessions.stop();
      await bus.close();
      await events.close();
      await settlement.idle().catch(() => undefined);
      await choice.cleanup?.(bus);
      await ports.close();
    },
  };
}
