import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler, Router } from 'express';
import type { Registry } from 'prom-client';
import type { OnairConfig } from '../../core/config/schema.js';
import type { Database } from '../../core/database/database.js';
import type { Cache } from '../../core/cache/cache.port.js';
import type { Logger } from '../../core/logging/logger.js';
import type { Consumer, EventBus } from '../../core/event-bus/event-bus.port.js';
import type { BusEvents } from '../../core/events/bus-events.js';
import { LiveEventLog } from './live-event-log.js';
import { CallbackReceiver } from './callback-receiver.js';
import { createCallbackFastPath } from './callback-fast-path.js';
import { createCallbackRouter } from './callback.routes.js';
import { createDeadLetterRouter } from './dead-letters.routes.js';
import { createFollowRouter } from './follows.routes.js';
import { startCallbackConsumer, type CallbackConsumerOptions } from './callback-consumer.js';
import { callbackHandlers, type CallbackHandlerDeps } from './handlers/index.js';
import { attachMediaEventsToBus, type MediaEventSource } from './media-events.js';
import { Reaper, type ReaperDeps } from '../workers/reaper.js';
import { LiveEventsPruner } from '../workers/live-events-pruner.js';

export interface CallbackPipelineDeps {
  config: Pick<OnairConfig, 'callbacks' | 'live' | 'http'>;
  db: Database;
  cache: Cache;
  bus: EventBus<BusEvents>;
  log: Logger;
  /** Where the receiver's refusal counter is registered (control's /metrics). */
  metrics?: Registry;
  /** The control services, as they are (RoomStore, RoomService, LiveSessionService, LiveSessionStore, ModerationService, MediaControl). */
  services: Omit<CallbackHandlerDeps, 'db' | 'log' | 'auditPauseMs'> & {
    sessionStore: CallbackHandlerDeps['sessionStore'] & ReaperDeps['sessionStore'];
    sessions: CallbackHandlerDeps['sessions'] & ReaperDeps['sessions'] & { heartbeat(stats: import('../../core/media/media-contract.js').StreamStats): Promise<void> };
  };
  /** requireRole('operator') for the dead-letter API, requireUser for follow. */
  guards: { operator: RequestHandler[]; user: RequestHandler[] };
  consume?: CallbackConsumerOptions;
}

export interface CallbackPipeline {
  events: LiveEventLog;
  receiver: CallbackReceiver;
  /** Put in front of express in the HTTP server's request listener: `(req, res) => fast(req, res) || app(req, res)`. */
  fastPath: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** The same receiver as an express Router, for mounting at /api/v1 before any JSON parser (if no fast path). */
  callbackRouter: Router;
  /** Routers for the JSON API under /api/v1 (after authenticate): dead letters (operator) and follow (user). */
  apiRouters: Router[];
  /** Starts the consumer, the reaper and the live_events pruner. */
  start(): void;
  /** In-process media events -> bus (stats -> the session heartbeat). Returns detach. */
  attachMedia(emitter: MediaEventSource): () => void;
  /** Stops consumer, reaper and pruner, flushes live_events. The bus is the caller's to close. */
  stop(): Promise<void>;
}

/** Wires the whole callback pipeline from the control services: one call in control/main.ts. */
export function createCallbackPipeline(deps: CallbackPipelineDeps): CallbackPipeline {
  const { config, db, cache, bus, log, services } = deps;
  const events = new LiveEventLog(db, { log });
  const onHeartbeat = (stats: import('../../core/media/media-contract.js').StreamStats) => services.sessions.heartbeat(stats);
  const receiver = new CallbackReceiver({
    bus, callbacks: config.callbacks, trustedProxies: config.http.trustedProxies, events, cache, log, onHeartbeat, metrics: deps.metrics,
  });
  const handlers = callbackHandlers({ ...services, db, log, auditPauseMs: config.live.auditPause });
  const reaper = new Reaper({
    sessionStore: services.sessionStore, sessions: services.sessions, cache, heartbeatTimeoutMs: config.live.heartbeatTimeout,
    pushUrlTtlMs: config.live.pushUrlTtl, log,
  });
  const pruner = new LiveEventsPruner({ db, cache, retentionMs: config.callbacks.eventsRetention, log });
  let consumer: Consumer | undefined;
  return {
    events,
    receiver,
    fastPath: createCallbackFastPath(receiver),
    callbackRouter: createCallbackRouter(receiver),
    apiRouters: [
      createDeadLetterRouter({ bus, guard: deps.guards.operator }),
      createFollowRouter({ db, rooms: services.rooms, guard: deps.guards.user }),
    ],
    start() {
      consumer ??= startCallbackConsumer(bus, { db, cache, events, handlers, log }, { maxAttempts: config.callbacks.maxAttempts, ...deps.consume });
      reaper.start();
      pruner.start();
    },
    attachMedia(emitter) {
      return attachMediaEventsToBus(emitter, bus, { events, log, onHeartbeat });
    },
    async stop() {
      await reaper.stop();
      await pruner.stop();
      await consumer?.stop();
      consumer = undefined;
      await events.close();
    },
  };
}
