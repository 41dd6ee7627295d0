import { DuplicateKeyError } from '../../core/errors.js';
import type { Database } from '../../core/database/database.js';
import type { Cache } from '../../core/cache/cache.port.js';
import { cacheKeys } from '../../core/cache/keys.js';
import type { Logger } from '../../core/logging/logger.js';
import type { AnyDelivery, BusHandler, ConsumeOptions, Consumer, EventBus } from '../../core/event-bus/event-bus.port.js';
import type { BusEvents } from '../../core/events/bus-events.js';
import { busPublishOptions, checkEventVersion, domainEventSchemas, type DomainEventName } from '../../core/events/domain-events.js';
import type { CommitHook, EventContext, EventRoute, EventRoutes, RowsJob } from '../../core/events/event-route.js';
import type { LiveEventLog } from './live-event-log.js';
import { GroupCommitter } from '../../core/event-bus/db-transaction.js';
import { ProcessedChecker, RowsCommitter } from './batch-commit.js';

export interface CallbackDispatcherDeps {
  db: Database;
  cache: Cache;
  events: LiveEventLog;
  /** One route per domain event (built by the domain folders, assembled in control/event-routes.ts). */
  routes: EventRoutes;
  /** Appends the events routes publish (session.live after stream.published); default: the consumed bus. */
  bus?: EventBus<BusEvents>;
  log: Logger;
  /** How long lock:callback:{eventId} is held at most (a crashed holder releases it by TTL). */
  lockTtlMs?: number;
  /** Hooks declared rows may ask for (the recordings' session binding). */
  commitHooks?: Record<string, CommitHook>;
}

/** The bus group the domain-event consumer reads as. */
export const CALLBACK_GROUP = 'callbacks';

/** Thrown by commit() when another delivery of the same event committed first: not an error, a duplicate. */
class AlreadyProcessed extends Error {}

/**
 * The consumer's handler: checks the delivery's version (one it does not know is dead-lettered at
 * once, RejectedEventError) and the payload against its event's schema (a corrupt one fails and
 * ends in the dead letters after the retries), then runs the event's one
 * route, idempotent by event id. Three guards: the processed marker (a duplicate of a finished event
 * is skipped), `lock:callback:{eventId}` (another copy arriving while the first is running is
 * skipped; the first one's own retries cover it if it fails), and the marker's primary key (two
 * commits of one event id: the second rolls back). Events no route subscribes to are acknowledged
 * and logged, with no marker (they had no effect to protect).
 */
export function createCallbackDispatcher(deps: CallbackDispatcherDeps, bus?: EventBus<BusEvents>): BusHandler<BusEvents> {
  const log = deps.log.child({ mod: 'event-consumer' });
  // Small groups, several in flight: statements inside one transaction run one after another.
  const committer = new GroupCommitter(deps.db, deps.db.dialect === 'sqlite' ? 64 : 4);
  const rowsCommitter = new RowsCommitter(deps.db, deps.commitHooks ?? {});
  const checker = new ProcessedChecker(deps.db);
  const isProcessed = (eventId: string) => checker.isProcessed(eventId);
  const publishBus = deps.bus ?? bus;

  return async (delivery: AnyDelivery<BusEvents>) => {
    const name: DomainEventName = delivery.name;
    // A version this consumer does not know is refused before its payload is read (dead-lettered at once).
    checkEventVersion(name, delivery.version);
    const route = deps.routes[name] as EventRoute<DomainEventName> | undefined;
    const parsed = domainEventSchemas[name]?.safeParse(delivery.payload);
    const raw = delivery.payload as { eventId?: unknown; roomId?: unknown };
    const line = {
      identity: typeof raw.eventId === 'string' ? raw.eventId : null, source: 'control' as const, eventName: name,
      streamName: typeof raw.roomId === 'string' ? raw.roomId : null, busId: delivery.id, attempt: delivery.attempt,
    };
    if (!parsed?.success) throw new TypeError(`${name} payload does not match its schema: ${parsed?.error.issues[0]?.message ?? 'unknown event'}`);
    const event = parsed.data as { eventId: string };
    if (!route) {
      deps.events.write({ ...line, status: 'processed', reason: 'no route' });
      return;
    }
    if (await isProcessed(event.eventId)) {
      deps.events.write({ ...line, status: 'processed', reason: 'duplicate' });
      return;
    }
    const lockKey = cacheKeys.callbackLock(event.eventId);
    if (!(await takeLock(deps.cache, lockKey, delivery.id, deps.lockTtlMs ?? 60_000))) {
      // Another bus entry of the same event is being handled; if that fails, its own retries cover it.
      deps.events.write({ ...line, status: 'processed', reason: 'duplicate in progress' });
      return;
    }
    try {
      let committed = false;
      const marker = (): RowsJob['rows'][number] => ({
        table: 'event_processed', values: { event_id: event.eventId, event_name: name, bus_id: delivery.id, processed_at: Date.now() },
      });
      const once = () => {
        if (committed) throw new TypeError('commit() called twice');
        committed = true;
      };
      const translate = (err: unknown): never => {
        if (err instanceof AlreadyProcessed || (err instanceof DuplicateKeyError && isMarkerConflict(err))) throw new AlreadyProcessed();
        throw err;
      };
      const ctx: EventContext = {
        name, event: parsed.data, busId: delivery.id, attempt: delivery.attempt, isProcessed,
        async commit(fn) {
          once();
          await committer.run(async (tx) => {
            await tx.run('INSERT INTO event_processed (event_id, event_name, bus_id, processed_at) VALUES (?, ?, ?, ?)',
              [event.eventId, name, delivery.id, Date.now()]);
            await fn?.(tx);
          }).catch(translate);
        },
        async commitRows(job) {
          once();
          await rowsCommitter.commit({ rows: [marker(), ...job.rows], hooks: job.hooks }).catch(translate);
        },
        async publish(next, payload) {
          if (!publishBus) throw new TypeError('this consumer has no bus to publish on');
          await publishBus.publish(next, payload as never, busPublishOptions(next, (payload as { roomId: string }).roomId));
          deps.events.write({ identity: payload.eventId, source: 'control', eventName: next, streamName: (payload as { roomId: string }).roomId, status: 'accepted', body: payload });
        },
      };
      try {
        await route(ctx);
        if (!committed) await ctx.commitRows({ rows: [] });
        deps.events.write({ ...line, status: 'processed' });
      } catch (err) {
        if (err instanceof AlreadyProcessed) {
          deps.events.write({ ...line, status: 'processed', reason: 'duplicate' });
          return;
        }
        throw err;
      }
    } finally {
      await deps.cache.del(lockKey).catch((err: unknown) => log.warn({ err, lockKey }, 'could not release the event lock'));
    }
  };
}

/**
 * lock:callback:{eventId}, holding the bus entry id. A lock held by this very entry means its
 * previous consumer died mid-handling and the bus re-delivered it: take it over (skipping would
 * lose the event until the lock's TTL, and the entry would already be acknowledged).
 */
async function takeLock(cache: Cache, key: string, owner: string, ttlMs: number): Promise<boolean> {
  for (let i = 0; i < 2; i++) {
    if (await cache.setIfAbsent(key, owner, ttlMs)) return true;
    const holder = await cache.get(key);
    if (holder === owner) {
      await cache.set(key, owner, ttlMs);
      return true;
    }
    if (holder !== null) return false; // expired in between: try once more
  }
  return false;
}

function isMarkerConflict(err: DuplicateKeyError): boolean {
  return err.table === 'event_processed' || err.fields.includes('event_id') || err.fields.includes('PRIMARY');
}

export interface CallbackConsumerOptions extends ConsumeOptions {
  group?: string;
}

/**
 * Starts the domain-event consumer on the bus: retries (options.maxAttempts, default 3, exponential
 * backoff) and dead letters are the bus's; this adds the live_events lines for retried and dead.
 * Stop it with `consumer.stop()` (or bus.close()).
 */
export function startCallbackConsumer(bus: EventBus<BusEvents>, deps: CallbackDispatcherDeps, options: CallbackConsumerOptions = {}): Consumer {
  const consumer = bus.consume(options.group ?? CALLBACK_GROUP, createCallbackDispatcher(deps, bus), options);
  const lineOf = (d: { id: string; name: string; attempt: number; payload: unknown }) => {
    const e = (d.payload ?? {}) as { eventId?: unknown; roomId?: unknown };
    return {
      identity: typeof e.eventId === 'string' ? e.eventId : null, source: 'control' as const, eventName: d.name,
      streamName: typeof e.roomId === 'string' ? e.roomId : null, busId: d.id, attempt: d.attempt,
    };
  };
  consumer.on('retried', (d, err) => deps.events.write({ ...lineOf(d), status: 'retried', reason: `${err.name}: ${err.message}` }));
  consumer.on('dead', (d, err) => deps.events.write({ ...lineOf(d), status: 'dead', reason: `${err.name}: ${err.message}` }));
  consumer.on('error', (err) => deps.log.error({ err }, 'event consumer: bus error'));
  return consumer;
}
