import type { TypedEmitter } from '../events/typed-emitter.js';

/**
 * The event bus port, written by hand (STYLE §2.4/2.5): it speaks onair types only; no Sequelize
 * model, Redis client or transaction type crosses it. Two adapters implement it:
 *   - DbEventBus: a durable table in the application database (embedded default),
 *   - RedisStreamEventBus: Redis Streams with a consumer group (cluster).
 * event-bus.contract.ts runs one suite against both.
 *
 * Semantics both adapters keep:
 *   - publish() resolves once the event is durable, with its ordered id (row id / stream entry id).
 *   - consume(group, ...) delivers every event published to the bus at least once to the group,
 *     in id order (per batch, events sharing a `key` run one after another, others in parallel).
 *   - A handler that throws is retried with exponential backoff (backoffMs * 2^(attempt-1)); after
 *     maxAttempts deliveries the event moves to the dead-letter store with the last error. A
 *     RejectedEventError (the consumer refuses the event itself: a version it does not know) moves
 *     it there at once: retrying cannot help, replaying after an upgrade can.
 *   - An event leased by a consumer that died is delivered again after visibilityTimeoutMs.
 *   - listDead()/replayDead() let an operator inspect and re-deliver dead letters to their group.
 *   - backlog()/countDead() are cheap counts for metrics (the callback backlog, the transcoder's queue).
 */

/** A catalog of event name -> payload (see core/events/bus-events.ts for onair's). */
export type EventCatalog = { [name: string]: object };

export interface PublishOptions {
  /** Events with the same key are never handled concurrently within a consumer batch (e.g. a stream name). */
  key?: string;
  /** The version of the payload's schema (domainEventSpecs); delivered as `version`. Default 1. */
  version?: number;
}

export interface Delivery<E extends EventCatalog, N extends keyof E & string = keyof E & string> {
  /** The ordered id: a decimal row id (DB) or a stream entry id `ms-seq` (Redis). */
  id: string;
  name: N;
  payload: E[N];
  key: string | null;
  /** The payload's schema version as published (1 for events published without one). */
  version: number;
  /** 1 on the first delivery, 2 on the first retry, ... */
  attempt: number;
  publishedAt: number;
}

/** A delivery of any name in the catalog, discriminated by `name`. */
export type AnyDelivery<E extends EventCatalog> = { [N in keyof E & string]: Delivery<E, N> }[keyof E & string];

export type BusHandler<E extends EventCatalog> = (delivery: AnyDelivery<E>) => Promise<void>;

export interface ConsumeOptions {
  /** This consumer's name inside the group (Redis consumer / DB lease owner); unique per process by default. */
  consumer?: string;
  /** How many events one read takes (default 100). */
  batchSize?: number;
  /** How many handlers run at once within a batch (default 16). */
  concurrency?: number;
  /** Deliveries before an event is dead-lettered (default 3: config.callbacks.maxAttempts). */
  maxAttempts?: number;
  /** First retry delay; doubles each attempt (default 200 ms). */
  backoffMs?: number;
  /** A leased event not acknowledged within this time is given to another consumer (default 30 s). */
  visibilityTimeoutMs?: number;
  /** How often an idle consumer looks for work when nothing wakes it (default 500 ms). */
  pollIntervalMs?: number;
}

export type DeliveryOutcome = 'processed' | 'retried' | 'dead';

/** What a running consumer reports; the callback pipeline turns these into live_events rows. */
export interface ConsumerEvents {
  [name: string]: unknown[];
  processed: [delivery: AnyDelivery<EventCatalog>];
  retried: [delivery: AnyDelivery<EventCatalog>, error: Error, retryAt: number];
  dead: [delivery: AnyDelivery<EventCatalog>, error: Error];
  /** A bus-level failure (database or Redis unreachable); the consumer keeps trying. */
  error: [error: Error];
}

export interface ConsumerStats {
  processed: number;
  retried: number;
  dead: number;
  /** Handlers running right now. */
  inFlight: number;
}

export interface Consumer extends TypedEmitter<ConsumerEvents> {
  readonly group: string;
  readonly name: string;
  readonly stats: ConsumerStats;
  /** Stops reading, waits for running handlers; leased but unfinished events are re-delivered later. Idempotent. */
  stop(): Promise<void>;
}

export interface DeadLetter {
  /** Id of the dead letter (what replayDead takes). */
  id: string;
  group: string;
  /** Id of the original event on the bus. */
  eventId: string;
  name: string;
  payload: unknown;
  key: string | null;
  /** The payload's schema version (1 when published without one). */
  version?: number;
  attempts: number;
  lastError: string;
  deadAt: number;
}

export interface EventBus<E extends EventCatalog> {
  readonly kind: 'db' | 'redis';
  publish<N extends keyof E & string>(name: N, payload: E[N], options?: PublishOptions): Promise<string>;
  consume(group: string, handler: BusHandler<E>, options?: ConsumeOptions): Consumer;
  listDead(options?: { group?: string; limit?: number }): Promise<DeadLetter[]>;
  /** Re-delivers one dead letter (or all, optionally of one group) to its group with fresh attempts; returns how many. */
  replayDead(id: string | 'all', options?: { group?: string }): Promise<number>;
  /**
   * Events the group has not acknowledged yet: not yet read, leased by a consumer, or waiting for a
   * retry (dead letters excluded). A group no consumer has registered yet counts every stored event
   * (what it would start with). `names` counts only those events (on Redis only the unread part is
   * filtered: leased/retrying entries are counted whatever their name).
   */
  backlog(group: string, options?: { names?: string[] }): Promise<number>;
  /** Dead letters now, by group (groups without any are absent). */
  countDead(): Promise<Record<string, number>>;
  /** Stops every consumer and releases connections. Idempotent. */
  close(): Promise<void>;
}
