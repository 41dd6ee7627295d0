import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler, Router } from 'express';
import type { Registry } from 'prom-client';
import type { OnairConfig } from '../../core/config/schema.js';
import type { Database } from '../../core/database/database.js';
import type { Cache } from '../../core/cache/cache.port.js';
import type { Logger } from '../../core/logging/logger.js';
import type { Consumer, EventBus } from '../../core/event-bus/event-bus.port.js';
import type { BusEvents } from '../../core/events/bus-events.js';
import type { CommitHook, EventRoutes, FanOutRoutes } from '../../core/events/event-route.js';
import { LiveEventLog } from './live-event-log.js';
import { CallbackReceiver } from './callback-receiver.js';
import { createCallbackFastPath } from './callback-fast-path.js';
import { createCallbackRouter } from './callback.routes.js';
import { createDeadLetterRouter } from './dead-letters.routes.js';
import { CALLBACK_GROUP, startCallbackConsumer, type CallbackConsumerOptions } from './callback-consumer.js';
import { registerCallbackMetrics } from './callback-metrics.js';
import { attachMediaEvents, type MediaEventSource } from './media-events.js';
import { EventIntake } from './event-intake.js';
import { LiveEventsPruner } from '../workers/live-events-pruner.js';

/** A background job the pipeline starts and stops with the consumer (the ghost-room reaper). */
export interface PipelineWorker { start(): void; stop(): Promise<void> }

export interface CallbackPipelineDeps {
  config: Pick<OnairConfig, 'callbacks' | 'live' | 'http'>;
  db: Database;
  cache: Cache;
  bus: EventBus<BusEvents>;
  log: Logger;
  /** Where the receiver's refusal counter and the callback metrics (backlog, dead letters, processed) are registered (control's /metrics). */
  metrics?: Registry;
  /** One route per domain event (control/event-routes.ts) and the commit hooks their rows use. */
  routes: EventRoutes;
  commitHooks?: Record<string, CommitHook>;
  /** The one route of each fan-out event (heartbeat, viewings), called as the event arrives. */
  fanOut: FanOutRoutes;
  /** requireRole('operator') for the dead-letter API. */
  guards: { operator: RequestHandler[] };
  workers?: PipelineWorker[];
  consume?: CallbackConsumerOptions;
}

export interface CallbackPipeline {
  events: LiveEventLog;
  receiver: CallbackReceiver;
  /** Where every edge hands its translated domain events (the hooks use it too). */
  intake: EventIntake;
  /** Put in front of express in the HTTP server's request listener: `(req, res) => fast(req, res) || app(req, res)`. */
  fastPath: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** The same receiver as an express Router, for mounting at /api/v1 before any JSON parser (if no fast path). */
  callbackRouter: Router;
  /** Routers for the JSON API under /api/v1 (after authenticate): dead letters (operator). */
  apiRouters: Router[];
  /** Starts the consumer, the workers and the live_events pruner. */
  start(): void;
  /** In-process media events -> domain events -> bus (the heartbeat to its handler). Returns detach. */
  attachMedia(emitter: MediaEventSource): () => void;
  /** Stops consumer, workers and pruner, flushes live_events. The bus is the caller's to close. */
  stop(): Promise<void>;
}

/**
 * Wires the asynchronous side of control: edges (vendor receiver, media callbacks, in-process
 * engine) -> domain events -> durable bus -> consumer -> the routes. One call in control/main.ts.
 */
export function createCallbackPipeline(deps: CallbackPipelineDeps): CallbackPipeline {
  const { config, db, cache, bus, log } = deps;
  const events = new LiveEventLog(db, { log });
  const intake = new EventIntake({ bus, events, fanOut: deps.fanOut, log });
  const receiver = new CallbackReceiver({
    bus, callbacks: config.callbacks, trustedProxies: config.http.trustedProxies, events, cache, log, intake, metrics: deps.metrics,
  });
  const pruner = new LiveEventsPruner({ db, cache, retentionMs: config.callbacks.eventsRetention, log });
  const workers = deps.workers ?? [];
  const group = deps.consume?.group ?? CALLBACK_GROUP;
  const metrics = deps.metrics ? registerCallbackMetrics(deps.metrics, bus, group, log) : undefined;
  let consumer: Consumer | undefined;
  return {
    events,
    receiver,
    intake,
    fastPath: createCallbackFastPath(receiver),
    callbackRouter: createCallbackRouter(receiver),
    apiRouters: [createDeadLetterRouter({ bus, guard: deps.guards.operator })],
    start() {
      if (!consumer) {
        consumer = startCallbackConsumer(bus, { db, cache, events, routes: deps.routes, commitHooks: deps.commitHooks, log },
          { maxAttempts: config.callbacks.maxAttempts, ...deps.consume });
        metrics?.observe(consumer);
      }
      for (const w of workers) w.start();
      pruner.start();
    },
    attachMedia(emitter) {
      return attachMediaEvents(emitter, (out) => intake.accept(out, 'media'));
    },
    async stop() {
      for (const w of workers) await w.stop();
      await pruner.stop();
      await consumer?.stop();
      consumer = undefined;
      await events.close();
    },
  };
}
