import type { DomainEvents, DurableEventName, FanOutEventName } from '../../core/events/domain-events.js';

/** What an edge made of what it heard: a durable event for the bus, a fan-out event for its handler, or nothing. */
export type DomainEventOut =
  | { [N in DurableEventName]: { kind: 'durable'; name: N; event: DomainEvents[N] } }[DurableEventName]
  | { [N in FanOutEventName]: { kind: 'fan-out'; name: N; event: DomainEvents[N] } }[FanOutEventName]
  | { kind: 'none' };
