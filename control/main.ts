import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Express } from 'express';
import type { Registry } from 'prom-client';
import type { Cache } from '../core/cache/cache.port.js';
import { loadConfig } from '../core/config/load.js';
import type { OnairConfig } from '../core/config/schema.js';
import type { Database } from '../core/database/database.js';
import { createLogger, type Logger } from '../core/logging/logger.js';
import type { MediaControl, StreamHooks } from '../core/media/media-contract.js';
import { AudienceService } from './audience/audience.service.js';
import { AudienceStore } from './audience/audience.store.js';
import { authRoutes } from './auth/auth.routes.js';
import { AuthService } from './auth/auth.service.js';
import { UserStore } from './auth/user.store.js';
import { hooksRoutes } from './hooks/hooks.routes.js';
import { HookGuard } from './hooks/hook-guard.js';
import { createControlApp } from './http/app.js';
import { CloseMethod } from './live-sessions/live-session.js';
import { LiveSessionService } from './live-sessions/live-session.service.js';
import { LiveSessionStore } from './live-sessions/live-session.store.js';
import { adminLiveRoutes, liveRoutes, sessionRoutes } from './live-sessions/live.routes.js';
import type { MediaEventSource } from '../core/media/media-contract.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EventBus } from '../core/event-bus/event-bus.port.js';
import { DbEventBus } from '../core/event-bus/db-event-bus.js';
import { LocalObjectStore } from '../core/object-store/local-object-store.js';
import type { ObjectStore } from '../core/object-store/object-store.port.js';
import { ReplayStore } from '../core/replays/replay.store.js';
import { ReplayUrlSigner } from './replays/replay-url.js';
import { ReplayService } from './replays/replay.service.js';
import { ReplayPruner } from './replays/replay-pruner.js';
import { replaysRoutes } from './replays/replays.routes.js';
import { openPorts } from '../core/ports.js';
import { createServer } from 'node:http';
import { createWebHandler } from '../web/serve.js';
import { objectStoreOrigin } from '../core/http/security-headers.js';
import { startMetricsListener } from '../core/http/metrics-endpoint.js';
import type { BusEvents } from '../core/events/bus-events.js';
import { createCallbackPipeline, type CallbackPipeline } from './callbacks/callback-pipeline.js';
import { CALLBACK_GROUP } from './callbacks/callback-consumer.js';
import { eventCommitHooks, eventRoutes, fanOutRoutes } from './event-routes.js';
import { Reaper } from './live-sessions/reaper.js';
import { createFollowRouter } from './notifications/follows.routes.js';
import { createNotificationModule, type NotificationModule } from './notifications/notification-module.js';
import { recordingsRoutes } from './recordings/recordings.routes.js';
import { eventIds } from '../core/events/event-route.js';
import { requireRole, requireUser } from './http/auth.middleware.js';
import { unconfiguredMediaControl } from './media-control-stub.js';
import { HttpMediaControl } from '../core/media/http-media-control.js';
import { ModerationService } from './moderation/moderation.service.js';
import { moderationRoutes } from './moderation/moderation.routes.js';
import { OperatorActionService } from './moderation/operator-action.service.js';
import { OperatorActionStore } from './moderation/operator-action.store.js';
import { operatorActionRoutes } from './moderation/operator-action.routes.js';
import { PublishBanStore } from './moderation/publish-ban.store.js';
import { PendingBanService } from './moderation/pending-ban.service.js';
import { PendingBanStore } from './moderation/pending-ban.store.js';
import { PlaybackService } from './playback/playback.service.js';
import { playbackRoutes } from './playback/playback.routes.js';
import { RoomService } from './rooms/room.service.js';
import { RoomStore } from './rooms/room.store.js';
import { roomsRoutes } from './rooms/rooms.routes.js';
import { SettlementService } from './settlement/settlement.service.js';
import { OperatorService } from './operator/operator.service.js';
import { OperatorStore } from './operator/operator.store.js';
import { operatorRoutes, siteRoutes } from './operator/operator.routes.js';
import { reconcileLiveSessions } from './workers/startup-reconcile.js';
import type { RateLimits } from '../core/rate-limit/rate-limit.port.js';
import { MemoryRateLimits } from '../core/rate-limit/rate-limits.js';
import { createEdgeRateLimits } from './http/rate-limits.js';
import { LikeBudget } from './discovery/like-budget.js';
import { InFlight, settleWithin } from '../core/lifecycle/in-flight.js';
import { createPubSub, type PubSub } from '../core/pubsub/index.js';
import { createMoney, type Money } from './gifts/money.js';
import { SocialService } from './discovery/social.service.js';
import { RecommendService } from './discovery/recommend.service.js';
import { discoveryRoutes } from './discovery/discovery.routes.js';
import { meRoutes } from './me/me.routes.js';
import { PersonalCenterStore } from './me/personal-center.store.js';
import { trackPublishes } from '../core/lifecycle/tracked-bus.js';
import { drainHttpServer } from '../core/lifecycle/http-drain.js';
import type { Duplex } from 'node:stream';
import { createChatModule, type ChatModule } from './chat/chat-module.js';
import { chatPerMinute } from './chat/chat-rate.js';
import { AudienceEventHandlers } from './audience/audience-events.handlers.js';

export interface ControlDeps {
  config: OnairConfig;
  log: Logger;
  /** Opened and migrated by the caller. */
  db: Database;
  cache: Cache;
  media: MediaControl;
  metrics: Registry;
  /** Random delay (ms, upper bound) before answering a refused publish/play; tests pass 0. */
  refusalDelayMs?: number;
  /** The event bus of the callback pipeline; the durable table in `db` when not given. The caller closes it. */
  bus?: EventBus<BusEvents>;
  /** Counters of the rate limits (Redis-shared from openPorts); in this process when not given. The caller closes it. */
  rateLimits?: RateLimits;
  /** Fan-out per room across control nodes (chat, gifts into the chat); an in-process one of its own when not given (closed by close()). */
  pubsub?: PubSub;
  /** Object storage of replays (openPorts); the folder DATA_DIR/objects when not given. The caller closes it. */
  objects?: ObjectStore;
}

export interface Control {
  app: Express;
  hooks: StreamHooks;
  auth: AuthService;
  users: UserStore;
  rooms: RoomService;
  roomStore: RoomStore;
  liveSessions: LiveSessionService;
  sessionStore: LiveSessionStore;
  playback: PlaybackService;
  moderation: ModerationService;
  pendingBans: PendingBanService;
  settlement: SettlementService;
  audience: AudienceService;
  pipeline: CallbackPipeline;
  /** Gift catalog, wallets, recharges and gift sends (issue 12). */
  money: Money;
  replays: ReplayService;
  replayPruner: ReplayPruner;
  /** Live chat, the enter/exit funnel and in-room moderation (control/chat, control/audience). */
  chat: ChatModule;
  /** Notifications: list and read marks, the go-live fan-out, the live socket `/ws/notification[/{uid}]`. */
  notifications: NotificationModule;
  /**
   * Control's WebSocket seam: takes the upgrade when the path is control's (`/ws`, `/ws/live/{session_id}`,
   * `/ws/notification[/{uid}]`)
   * and returns true; false leaves the socket to the caller (media's WS-FLV in the all-in-one process).
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /**
   * The HTTP request listener: signed callbacks on their node:http fast path (express alone caps
   * the receiver's throughput), everything else through the express app.
   */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** The in-process media edge: every engine event becomes its domain event (durable ones on the bus, the heartbeat to the live-session service); returns detach. */
  attachMediaEvents(emitter: MediaEventSource): () => void;
  /**
   * Run once at start: creates the operator from ONAIR_ADMIN_USER/ONAIR_ADMIN_PASSWORD when both
   * are set (idempotent), starts the callback consumer and the ghost-room reaper, and puts live
   * sessions media does not hold into their reconnect grace (workers/startup-reconcile.ts).
   */
  bootstrap(): Promise<void>;
  /**
   * Drains, then stops: waits for the audience writes and bus appends in progress (the engine's last
   * events included: close the engine first), stops the consumer after its current batch, the
   * reaper and the timers, flushes the live event log and waits for queued settlements, all until
   * `deadline` (epoch ms; default now + ONAIR_SHUTDOWN_TIMEOUT). What did not finish by then is
   * logged. Does not close db/cache/bus (the caller owns them, and closes them after this).
   */
  close(options?: { deadline?: number }): Promise<void>;
}

/** Builds the control role on ports the caller provides (the all-in-one process, tests, or run()). */
export function createControl(deps: ControlDeps): Control {
  const { config, db, cache, media, metrics } = deps;
  const log = deps.log.child({ mod: 'control' });
  const users = new UserStore(db);
  const roomStore = new RoomStore(db);
  const sessionStore = new LiveSessionStore(db);
  const auth = new AuthService(users, config, log);
  const settlement = new SettlementService(db, log.child({ mod: 'settlement' }));
  const rooms = new RoomService({ rooms: roomStore, users, sessions: sessionStore, cache, config, media, log });
  // liveSessions is created below; the ban hook reaches it through this reference.
  let liveSessions: LiveSessionService | undefined;
  // The chat module is created below; a lifted pause reaches its rooms through this reference.
  let chatModule: ChatModule | undefined;
  const moderation = new ModerationService({
    bans: new PublishBanStore(db),
    userExists: async (id) => (await users.findById(id)) !== null,
    onBanned: async (userId, reason) => {
      await liveSessions?.endAllOfAnchor(userId, CloseMethod.admin, `publishing banned: ${reason}`);
    },
    onLifted: async (userId) => {
      // A moderation pause ended early: each of the anchor's rooms is told (`stream_resumed`).
      for (const room of await roomStore.listByOwner(userId)) {
        await chatModule?.chat.streamResumed(room.id).catch((err: unknown) => log.warn({ err, roomId: room.id }, 'announcing the resume to the chat failed'));
      }
    },
    log,
  });
  const pendingBans = new PendingBanService({ store: new PendingBanStore(db), moderation, rooms, log: log.child({ mod: 'moderation' }) });
  liveSessions = new LiveSessionService({
    sessions: sessionStore, rooms: roomStore, roomService: rooms, moderation, cache, media, settlement, config,
    log: log.child({ mod: 'live' }), refusalDelayMs: deps.refusalDelayMs,
  });
  const live = liveSessions;
  const audience = new AudienceService(new AudienceStore(db), sessionStore, log.child({ mod: 'audience' }));
  const playback = new PlaybackService({ roomService: rooms, config, log: log.child({ mod: 'play' }), refusalDelayMs: deps.refusalDelayMs });
  const hooks: StreamHooks = {
    authorizePublish: (req) => live.authorizePublish(req),
    authorizePlay: (req) => playback.authorizePlay(req),
  };
  // Appends in progress are counted so close() can wait for them before the caller closes the bus.
  const publishes = new InFlight();
  const bus = trackPublishes(deps.bus ?? new DbEventBus<BusEvents>(db, { log }), publishes);
  const reaper = new Reaper({
    sessionStore, sessions: live, cache, heartbeatTimeoutMs: config.live.heartbeatTimeout, pushUrlTtlMs: config.live.pushUrlTtl, log: log.child({ mod: 'reaper' }),
  });
  // The notification module is built once pub/sub is; the event routes reach it through these references.
  let notifications: NotificationModule | undefined;
  // audience.entered / audience.exited (control/audience): the enter log, unique viewers, peak, watch time.
  const audienceEvents = new AudienceEventHandlers({ audience: new AudienceStore(db), cache, sessions: sessionStore });
  const routeDeps = {
    audienceEvents,
    db, rooms: roomStore, roomService: rooms, sessions: live, sessionStore, moderation, pendingBans, media, audience, settlement,
    auditPauseMs: config.live.auditPause, log: log.child({ mod: 'events' }),
    notifyFanout: { kick: () => notifications?.fanout.kick() },
    liveQuietMs: config.notifications.liveQuiet,
    notifyPush: { pushLater: (dedupeKey: string, userIds: string[]) => notifications?.push.pushLater(dedupeKey, userIds) },
  };
  const pipeline = createCallbackPipeline({
    config, db, cache, bus, log: log.child({ mod: 'callbacks' }), metrics,
    routes: eventRoutes(routeDeps),
    commitHooks: eventCommitHooks,
    fanOut: fanOutRoutes(routeDeps),
    workers: [reaper],
    guards: { operator: [requireRole('operator')] },
  });
  // A session's end, whatever ended it, for the subscribers of session.ended (best effort: the
  // session is already ended in the database; a lost event is logged).
  live.observer.on('ended', (session) => {
    const startedAt = session.startAt?.getTime() ?? null;
    const endedAt = session.endAt?.getTime() ?? Date.now();
    void pipeline.intake.accept({ kind: 'durable', name: 'session.ended', event: {
      eventId: eventIds.sessionEnded(session.id), at: endedAt, sessionId: session.id, roomId: session.roomId, anchorId: session.anchorId,
      closeMethod: session.closeMethod === 1 || session.closeMethod === 2 ? session.closeMethod : 3, reason: (session.closeReason ?? '').slice(0, 512),
      startedAt, durationMs: startedAt === null ? 0 : Math.max(0, endedAt - startedAt),
    } }, 'control').catch(() => undefined);
  });
  const ownPubSub = deps.pubsub ? undefined : createPubSub({ historySize: config.chat.historySize, log: log.child({ mod: 'pubsub' }) });
  const pubsub = deps.pubsub ?? ownPubSub!;
  notifications = createNotificationModule({ config, db, cache, pubsub, auth, users, log });
  const notify = notifications;
  const money = createMoney({
    config, db, cache, pubsub, log, metrics, rooms: roomStore, sessions: sessionStore,
    userExists: async (id) => (await users.findById(id)) !== null,
    // Kicked or blacklisted: no gift (its line would be in the room's chat). The chat module is made below; gifts come later.
    roomAccess: (roomId, userId) => chat.entry.checkAccess(roomId, userId),
  });
  // Likes of one user in one room, over the API and the chat socket together (ONAIR_RATE_LIKES).
  const likeBudget = new LikeBudget(deps.rateLimits ?? new MemoryRateLimits(), config.rateLimit);
  const social = new SocialService({ db, rooms: roomStore, sessions: sessionStore, pubsub, log: log.child({ mod: 'social' }) });
  const recommend = new RecommendService({ db, cache, rooms, log: log.child({ mod: 'recommend' }) });
  const limits = createEdgeRateLimits({
    config: config.rateLimit, limits: deps.rateLimits ?? new MemoryRateLimits(), trustedProxies: config.http.trustedProxies,
    metrics, log: log.child({ mod: 'rate-limit' }),
  });
  // The operator console (ser-blive) and the pages' public reads: control/operator.
  const operator = new OperatorService({
    store: new OperatorStore(db), users, rooms, media, metrics, bus, chatRates: (now) => chatPerMinute(cache, now),
    callbackBacklog: () => bus.backlog(CALLBACK_GROUP), log: log.child({ mod: 'operator' }),
  });
  // Replays (issue 13): the transcoder writes them, control lists, plays, deletes, clips and prunes them.
  const objects = deps.objects ?? new LocalObjectStore(join(config.dataDir, 'objects'));
  const replaySigner = new ReplayUrlSigner(config.secret!);
  const replays = new ReplayService({
    store: new ReplayStore(db), objects, rooms: roomStore, signer: replaySigner, urlTtlMs: config.replays.urlTtl,
    ffmpegPath: config.media.ffmpegPath, ffprobePath: config.transcoder.ffprobePath, log: log.child({ mod: 'replays' }),
  });
  const replayPruner = new ReplayPruner({ service: replays, retentionMs: config.replays.retention, intervalMs: config.replays.pruneInterval, log: log.child({ mod: 'replays' }) });
  const chat = createChatModule({
    config, db, cache, pubsub, rateLimits: deps.rateLimits ?? new MemoryRateLimits(), media, auth, users,
    rooms, sessions: sessionStore, playback, metrics, log, likes: (roomId, count) => social.like(roomId, count), likeBudget, enterLimit: limits.playToken, reportLimit: limits.reports,
    emit: (out) => pipeline.intake.accept(out, 'control'),
    platformConventions: async () => (await operator.conventions())?.body ?? null,
    pausedUntil: async (roomId) => {
      const room = await roomStore.findById(roomId);
      const ban = room ? await moderation.activeBan(room.ownerId) : null;
      return ban ? (ban.until ? ban.until.getTime() : Infinity) : null;
    },
  });
  chatModule = chat;
  // The console's dismiss / warn / pause / ban on audit verdicts, reports, in-room actions and rooms.
  const operatorActions = new OperatorActionService({
    store: new OperatorActionStore(db), moderation, rooms: roomStore, notifyPush: routeDeps.notifyPush, log: log.child({ mod: 'moderation' }),
    chatNotice: (roomId, notice) => chat.chat.moderationWarning(roomId, notice.reason),
  });
  // The show ended: chat tells the room and closes its sockets (on every node, through the room channel).
  // Ended by an operator or a sanction while a timed publishing ban runs: a moderation pause (`stream_paused`).
  live.observer.on('ended', (session) => {
    void (async () => {
      const ban = session.closeMethod === CloseMethod.admin ? await moderation.activeBan(session.anchorId) : null;
      const pause = ban?.until ? { until: ban.until.getTime() } : null;
      await chat.chat.sessionEnded(session.roomId, session.id, session.closeMethod, session.closeReason, pause);
    })().catch((err: unknown) => log.warn({ err, roomId: session.roomId }, 'announcing the end to the chat failed'));
  });
  const app = createControlApp({
    log,
    metrics,
    trustedProxies: config.http.trustedProxies,
    metricsAccess: config.metrics,
    bodyLimit: config.http.bodyLimit,
    auth,
    rawRouters: [pipeline.callbackRouter, ...money.rawRouters],
    routers: [
      authRoutes(auth, limits),
      // Before the rooms router: /rooms/recommended is not /rooms/{id}.
      discoveryRoutes({
        recommend, social, config, rooms: roomStore, likeBudget, shareLimit: limits.shares,
        // Kicked or blacklisted: no like or share (they count on the show and in the hot ranking).
        roomAccess: (roomId, userId) => chat.entry.checkAccess(roomId, userId),
      }),
      roomsRoutes(rooms),
      playbackRoutes(playback, limits.playToken),
      liveRoutes(live),
      sessionRoutes(sessionStore, settlement),
      adminLiveRoutes(live, rooms),
      moderationRoutes(moderation, pendingBans),
      operatorActionRoutes(operatorActions),
      operatorRoutes(operator),
      siteRoutes({ config, operator, rooms: roomStore, media }),
      createFollowRouter({ db, rooms: roomStore, guard: [requireUser] }),
      ...notify.routers,
      recordingsRoutes({ db, rooms: roomStore }),
      hooksRoutes({
        hooks, events: pipeline.intake, rooms: roomStore, sessions: sessionStore, bodyLimit: config.http.bodyLimit, log: log.child({ mod: 'hooks' }),
        guard: new HookGuard({
          secret: config.hooks.secret, allow: config.hooks.allow, mediaKey: config.callbacks.mediaKey,
          trustedProxies: config.http.trustedProxies, metrics,
        }),
        recordingsDir: config.media.recordingsDir ?? join(config.dataDir, 'recordings'),
      }),
      replaysRoutes({ service: replays, objects, signer: replaySigner, clipLimit: limits.clips }),
      ...pipeline.apiRouters,
      ...money.routers,
      meRoutes(new PersonalCenterStore(db)),
      ...chat.routers,
    ],
    health: {
      database: () => db.sequelize.query('SELECT 1'),
      cache: () => cache.exists('healthz:probe'),
    },
  });
  const detachers = new Set<() => void>();
  return {
    app, hooks, auth, users, rooms, roomStore, liveSessions: live, sessionStore, playback, moderation, pendingBans, settlement, audience, pipeline, money, chat,
    notifications: notify,
    replays, replayPruner,
    handleUpgrade(req, socket, head) {
      return chat.gateway.handleUpgrade(req, socket, head) || notify.gateway.handleUpgrade(req, socket, head);
    },
    handle(req, res) {
      // A source blocked for repeated refused callbacks/hooks gets its 429 here, before any parsing.
      if (limits.receivers.intercept(req, res)) return;
      if (!pipeline.fastPath(req, res)) app(req, res);
    },
    attachMediaEvents(emitter) {
      // The same route as media's HTTP callbacks and the hooks: domain events, one route each.
      const detach = pipeline.attachMedia(emitter);
      detachers.add(detach);
      return () => {
        detach();
        detachers.delete(detach);
      };
    },
    async bootstrap() {
      await ensureConfiguredOperator(config, auth, log);
      pipeline.start();
      replayPruner.start();
      chat.start();
      notify.start();
      money.housekeeping.start();
      // After a crash the database may still hold live shows media no longer carries.
      await reconcileLiveSessions({ sessionStore, sessions: live, media, cache, log: log.child({ mod: 'reconcile' }) })
        .catch((err: unknown) => log.error({ err }, 'reconciling live sessions with media failed'));
    },
    async close(options = {}) {
      const deadline = options.deadline ?? Date.now() + config.shutdownTimeout;
      const left = () => Math.max(0, deadline - Date.now());
      const unfinished: Record<string, number | string> = {};
      // Chat sockets close first (1001: clients reconnect to another node and resume), queued chat rows are written.
      await chat.close(deadline);
      await notify.close();
      await money.housekeeping.stop();
      const audienceWrites = (await audience.idle(deadline)) + (await audienceEvents.idle(deadline));
      if (audienceWrites) unfinished.audienceWrites = audienceWrites;
      const busAppends = await publishes.idle(deadline);
      if (busAppends) unfinished.busAppends = busAppends;
      for (const detach of detachers) detach();
      await settleWithin(replayPruner.stop(), left());
      if (!(await settleWithin(pipeline.stop(), left()))) unfinished.callbackPipeline = 'consumer batch or live_events flush still running';
      live.stop();
      if (!(await settleWithin(settlement.idle(), left()))) unfinished.settlements = settlement.pendingCount;
      social.stop();
      await ownPubSub?.close();
      if (Object.keys(unfinished).length > 0) log.error({ unfinished }, 'shutdown deadline (ONAIR_SHUTDOWN_TIMEOUT) passed before this work finished');
      else log.info('control drained: audience writes, bus appends, callback consumer, live_events, settlements');
    },
  };
}

/** Creates the first operator from ONAIR_ADMIN_USER / ONAIR_ADMIN_PASSWORD when both are set (idempotent). */
export async function ensureConfiguredOperator(config: OnairConfig, auth: AuthService, log: Logger): Promise<void> {
  const { adminUser, adminPassword } = config.auth;
  if (!adminUser || !adminPassword) return;
  const { created } = await auth.ensureOperator(adminUser, adminPassword);
  log.info({ username: adminUser, created }, created ? 'operator created from ONAIR_ADMIN_USER' : 'operator from ONAIR_ADMIN_USER is present');
}

/** `npm run start:control`: control alone on config.http.port. */
async function run(): Promise<void> {
  const config = loadConfig();
  const log = createLogger({ level: config.logLevel });
  const ports = await openPorts(config, log);
  // onair's own media service has a signed control API; SRS or nginx-rtmp deployments have none.
  const media = config.media.serviceUrl && config.callbacks.mediaKey
    ? new HttpMediaControl({ baseUrl: config.media.serviceUrl, key: config.callbacks.mediaKey, timeoutMs: config.media.hookTimeout })
    : unconfiguredMediaControl(log);
  const control = createControl({ config, log, ...ports, media });
  await control.bootstrap();
  const metricsListener = await startMetricsListener(ports.metrics, config.metrics, config.host, log);
  // The web pages (home, room, login, studio, operator console) come from control in the split
  // stack too: the nginx edge sends / to control, media's paths (/live/...) to media.
  const web = createWebHandler({ mediaOrigins: [objectStoreOrigin(config.s3.target)].filter((o): o is string => !!o) });
  const server = createServer((req, res) => web(req, res, () => control.handle(req, res)));
  server.on('upgrade', (req, socket: Duplex, head: Buffer) => {
    if (!control.handleUpgrade(req, socket, head)) socket.destroy();
  });
  server.listen(config.http.port, config.host, () => {
    // The bound port (ONAIR_HTTP_PORT=0 picks a free one: the tests that start this process read it here).
    log.info({ host: config.host, port: (server.address() as { port: number }).port }, 'control listening');
  });
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) process.exit(1); // a second signal does not wait
    stopping = true;
    const deadline = Date.now() + config.shutdownTimeout;
    log.info({ signal, timeoutMs: config.shutdownTimeout }, 'shutting down');
    // Past the deadline plus a margin, exit anyway: a hung dependency must not keep the process up.
    setTimeout(() => process.exit(1), config.shutdownTimeout + 5_000).unref();
    // Requests in progress finish (each may be a callback being accepted), new ones are refused;
    // chat sockets close meanwhile (1001: clients reconnect to another node and resume).
    const draining = drainHttpServer(server, deadline);
    await Promise.all([control.chat.gateway.close(), control.notifications.gateway.close()]);
    const cut = await draining;
    if (cut > 0) log.warn({ connections: cut }, 'requests still running at the shutdown deadline were cut');
    await metricsListener?.close();
    await control.close({ deadline });
    await ports.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  run().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
