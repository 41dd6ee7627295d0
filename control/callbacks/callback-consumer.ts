import { UniqueConstraintError } from 'sequelize';
import type { Database } from '../../core/database/database.js';
import type { Cache } from '../../core/cache/cache.port.js';
import { cacheKeys } from '../../core/cache/keys.js';
import type { Logger } from '../../core/logging/logger.js';
import type { BusHandler, ConsumeOptions, Consumer, EventBus } from '../../core/event-bus/event-bus.port.js';
import type { BusEvents, CallbackEventTypeCode, CallbackReceived } from '../../core/events/bus-events.js';
import type { LiveEventLog } from './live-event-log.js';
import { GroupCommitter, type Tx } from '../../core/event-bus/db-transaction.js';
import { ProcessedChecker, RowsCommitter, type CommitHook, type RowsJob } from './batch-commit.js';
import { recordCommitHooks } from './handlers/record.handler.js';

/** What a handler gets: the event, and commit() to write its own rows together with the processed marker. */
export interface CallbackContext {
  event: CallbackReceived;
  busId: string;
  attempt: number;
  /**
   * Inserts the callback_processed marker and runs `fn` in the same transaction. Call it after
   * effects that go through other services (they are idempotent and cannot join this transaction),
   * so a failure before the commit leaves no marker and the retry redoes the work. Once per event.
   */
  commit(fn?: (tx: Tx) => Promise<void>): Promise<void>;
  /**
   * The same, declared instead of run: the marker and these rows are written with other events'
   * rows in multi-row INSERTs (group commit). The fast path for handlers whose effect is rows.
   */
  commitRows(job: RowsJob): Promise<void>;
  /** True when the event (or another identity) already has its processed marker. */
  isProcessed(identity: string): Promise<boolean>;
}

export type CallbackHandler = (ctx: CallbackContext) => Promise<void>;
export type CallbackHandlers = Partial<Record<CallbackEventTypeCode, CallbackHandler>>;

export interface CallbackDispatcherDeps {
  db: Database;
  cache: Cache;
  events: LiveEventLog;
  handlers: CallbackHandlers;
  log: Logger;
  /** How long lock:callback:{identity} is held at most (a crashed holder releases it by TTL). */
  lockTtlMs?: number;
  /** Hooks declared rows may ask for (default: the record handler's). */
  commitHooks?: Record<string, CommitHook>;
}

/** The bus group the callback consumer reads as. */
export const CALLBACK_GROUP = 'callbacks';

/** Thrown by commit() when another delivery of the same event committed first: not an error, a duplicate. */
class AlreadyProcessed extends Error {}

/**
 * The consumer's handler: dispatches by event_type, idempotent by event identity. Three guards:
 * the processed marker (a duplicate of a finished event is skipped), `lock:callback:{identity}`
 * (another copy arriving while the first is running is skipped; the first one's own retries cover
 * it if it fails), and the marker's primary key (two commits of one identity: the second rolls back).
 */
export function createCallbackDispatcher(deps: CallbackDispatcherDeps): BusHandler<BusEvents> {
  const log = deps.log.child({ mod: 'callback-consumer' });
  // Small groups, several in flight: statements inside one transaction run one after another.
  const committer = new GroupCommitter(deps.db, deps.db.dialect === 'sqlite' ? 64 : 4);
  const rowsCommitter = new RowsCommitter(deps.db, deps.commitHooks ?? recordCommitHooks);
  const checker = new ProcessedChecker(deps.db);
  const isProcessed = (identity: string) => checker.isProcessed(identity);

  return async (delivery) => {
    if (delivery.name !== 'callback.received') return;
    const event = delivery.payload;
    const line = { identity: event.identity, source: event.source, eventType: event.eventType, streamName: event.streamName, sequence: event.sequence, busId: delivery.id, attempt: delivery.attempt };
    if (await isProcessed(event.identity)) {
      deps.events.write({ ...line, status: 'processed', reason: 'duplicate' });
      return;
    }
    const lockKey = cacheKeys.callbackLock(event.identity);
    if (!(await takeLock(deps.cache, lockKey, delivery.id, deps.lockTtlMs ?? 60_000))) {
      // Another bus entry of the same event is being handled; if that fails, its own retries cover it.
      deps.events.write({ ...line, status: 'processed', reason: 'duplicate in progress' });
      return;
    }
    try {
      const handler = deps.handlers[event.eventType];
      let committed = false;
      const marker = (): RowsJob['rows'][number] => ({
        table: 'callback_processed', values: { identity: event.identity, event_type: event.eventType, bus_id: delivery.id, processed_at: Date.now() },
      });
      const once = () => {
        if (committed) throw new TypeError('commit() called twice');
        committed = true;
      };
      const translate = (err: unknown): never => {
        if (err instanceof AlreadyProcessed || (err instanceof UniqueConstraintError && isMarkerConflict(err))) throw new AlreadyProcessed();
        throw err;
      };
      const ctx: CallbackContext = {
        event, busId: delivery.id, attempt: delivery.attempt, isProcessed,
        async commit(fn) {
          once();
          await committer.run(async (tx) => {
            await tx.run('INSERT INTO callback_processed (identity, event_type, bus_id, processed_at) VALUES (?, ?, ?, ?)',
              [event.identity, event.eventType, delivery.id, Date.now()]);
            await fn?.(tx);
          }).catch(translate);
        },
        async commitRows(job) {
          once();
          await rowsCommitter.commit({ rows: [marker(), ...job.rows], hooks: job.hooks }).catch(translate);
        },
      };
      try {
        if (handler) await handler(ctx);
        else log.warn({ eventType: event.eventType }, 'no handler for event type: recorded only');
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
      await deps.cache.del(lockKey).catch((err: unknown) => log.warn({ err, lockKey }, 'could not release callback lock'));
    }
  };
}

/**
 * lock:callback:{identity}, holding the bus entry id. A lock held by this very entry means its
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

function isMarkerConflict(err: UniqueConstraintError): boolean {
  const sql = String((err as { sql?: string }).sql ?? '');
  return sql.includes('callback_processed') || err.errors.some((e) => e.path === 'identity' || e.path === 'PRIMARY');
}

export interface CallbackConsumerOptions extends ConsumeOptions {
  group?: string;
}

/**
 * Starts the callback consumer on the bus: retries (options.maxAttempts, default 3, exponential
 * backoff) and dead letters are the bus's; this adds the live_events lines for retried and dead.
 * Stop it with `consumer.stop()` (or bus.close()).
 */
export function startCallbackConsumer(bus: EventBus<BusEvents>, deps: CallbackDispatcherDeps, options: CallbackConsumerOptions = {}): Consumer {
  const consumer = bus.consume(options.group ?? CALLBACK_GROUP, createCallbackDispatcher(deps), options);
  const lineOf = (d: { id: string; attempt: number; payload: unknown }) => {
    const e = d.payload as Partial<CallbackReceived>;
    return { identity: e.identity ?? null, source: e.source ?? 'css', eventType: e.eventType ?? null, streamName: e.streamName ?? null, sequence: e.sequence ?? null, busId: d.id, attempt: d.attempt };
  };
  consumer.on('retried', (d, err) => deps.events.write({ ...lineOf(d), status: 'retried', reason: `${err.name}: ${err.message}` }));
  consumer.on('dead', (d, err) => deps.events.write({ ...lineOf(d), status: 'dead', reason: `${err.name}: ${err.message}` }));
  consumer.on('error', (err) => deps.log.error({ err }, 'callback consumer: bus error'));
  return consumer;
}
