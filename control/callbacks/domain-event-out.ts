import { domainEventSchemas, type DomainEvents, type DurableEventName, type FanOutEventName } from '../../core/events/domain-events.js';

/** What an edge made of what it heard: a durable event for the bus, a fan-out event for its handler, or nothing. */
export type DomainEventOut =
  | { [N in DurableEventName]: { kind: 'durable'; name: N; event: DomainEvents[N] } }[DurableEventName]
  | { [N in FanOutEventName]: { kind: 'fan-out'; name: N; event: DomainEvents[N] } }[FanOutEventName]
  | { kind: 'none' };

/**
 * Why the domain event an edge made would be refused by the consumer (the bus's schema of that
 * name), or null when it is good. An edge checks it before answering: a sender told 200 must
 * never see its event dead-lettered for a value the edge could have refused (it gets a 400).
 */
export function domainEventProblem(out: DomainEventOut): string | null {
  if (out.kind === 'none') return null;
  const checked = domainEventSchemas[out.name].safeParse(out.event);
  if (checked.success) return null;
  return checked.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(event)'} ${i.message}`).join('; ');
}
