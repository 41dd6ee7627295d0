import type { DomainEvents, DurableEventName } from '../../core/events/domain-events.js';

/** What an edge made of what it heard: a durable event for the bus, a fan-out event for its handler, or nothing. */
export type DomainEventOut =
  | { [N in DurableEventName]: { kind: 'durable'; name: N; event: DomainEvents[N] } }[DurableEventName]
  | { kind: 'fan-out'; name: 'stream.heartbeat'; event: DomainEvents['stream.heartbeat'] }
  | { kind: 'none' };
