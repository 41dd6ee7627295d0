/**
 * The catalog of events on the durable bus (STYLE §2.9): event name -> payload type. It is the
 * durable half of the domain-event catalog (domain-events.ts): every edge translates what it hears
 * into those events first, so the bus never carries a vendor's body. EventBus<BusEvents> checks
 * every publish and narrows every delivery by its name.
 */
import type { DurableEventName, DurableEvents } from './domain-events.js';

// A type alias (not an interface) so it satisfies EventCatalog's index signature.
export type BusEvents = DurableEvents;
export type BusEventName = DurableEventName;
