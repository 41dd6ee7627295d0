import type { Tx } from '../database/tx.js';
import type { DomainEventName, DomainEvents, DurableEventName, FanOutEventName } from './domain-events.js';

/**
 * What a domain-event handler ("route") gets and may do, declared in core so each domain folder
 * (live-sessions, recordings, notifications, moderation, covers, audience) writes its handlers
 * without importing the consumer that runs them. control/callbacks/callback-consumer.ts implements it.
 */

/** A row to insert: table and column -> value. Column names come from code, never from input. */
export interface TableRow { table: string; values: Record<string, unknown> }

/** A handler's whole database effect, declared: rows, and named follow-up statements over its event id. */
export interface RowsJob {
  rows: TableRow[];
  /** Hooks run once per group with every event id that asked for them (e.g. bind records to their session). */
  hooks?: Array<{ name: string; identity: string }>;
}

/** A follow-up statement run once per committed group, with the event ids that asked for it. */
export type CommitHook = (tx: Tx, identities: string[]) => Promise<void>;

export interface EventContext<N extends DomainEventName = DomainEventName> {
  name: N;
  /** The checked payload (parsed against its schema at delivery). */
  event: DomainEvents[N];
  busId: string;
  attempt: number;
  /**
   * Inserts the processed marker (idempotency by eventId) and runs `fn` in the same transaction.
   * Call it after effects that go through other services (they are idempotent and cannot join this
   * transaction), so a failure before the commit leaves no marker and the retry redoes the work.
   */
  commit(fn?: (tx: Tx) => Promise<void>): Promise<void>;
  /** The same, declared: the marker and these rows are group-committed with other events' rows. */
  commitRows(job: RowsJob): Promise<void>;
  /** True when that event id already has its processed marker. */
  isProcessed(eventId: string): Promise<boolean>;
  /** Appends another durable domain event (a fact this handler established, e.g. session.live). */
  publish<M extends DurableEventName>(name: M, event: DomainEvents[M]): Promise<void>;
}

export type EventRoute<N extends DomainEventName> = (ctx: EventContext<N>) => Promise<void>;

/** One route per durable event name: what the bus consumer dispatches on. An event without a route is only logged. */
export type EventRoutes = { [N in DurableEventName]?: EventRoute<N> };

/** The one route of each fan-out event, called by the edge's intake as the event arrives. */
export type FanOutRoutes = { [N in FanOutEventName]?: (event: DomainEvents[N]) => Promise<void> | void };

/** Stable event ids that several edges must agree on, so a handler can find its event's counterpart. */
export const eventIds = {
  /** A publish's start and end share the publisherId: stream.published of it after its stream.unpublished is stale. */
  published: (publisherId: string) => `${publisherId}:published`,
  unpublished: (publisherId: string) => `${publisherId}:unpublished`,
  sessionLive: (sessionId: string) => `session.live:${sessionId}`,
  sessionEnded: (sessionId: string) => `session.ended:${sessionId}`,
};
