import type { EventBus } from '../../core/event-bus/event-bus.port.js';
import type { BusEvents } from '../../core/events/bus-events.js';
import { busPublishOptions } from '../../core/events/domain-events.js';
import type { FanOutRoutes } from '../../core/events/event-route.js';
import type { Logger } from '../../core/logging/logger.js';
import type { DomainEventOut } from './domain-event-out.js';
import type { EdgeSource, LiveEventLog } from './live-event-log.js';

export interface EventIntakeDeps {
  bus: EventBus<BusEvents>;
  events?: LiveEventLog;
  /** The one route of each fan-out event (heartbeat: live sessions; viewings: audience). */
  fanOut?: FanOutRoutes;
  log?: Logger;
}

/**
 * Where every edge hands its translated domain event. Durable events are appended to the bus (keyed
 * by room, so one room's events stay in order) and logged in live_events; fan-out events go to their
 * route at once. Resolves once the event is durable, or handled (the receiver answers 200 only then;
 * media's HTTP sink retries anything else); rejects when the bus is down (503, the sender retries).
 * A failing heartbeat is only logged: the next one supersedes it.
 */
export class EventIntake {
  constructor(private readonly deps: EventIntakeDeps) {}

  async accept(out: DomainEventOut, source: EdgeSource): Promise<void> {
    if (out.kind === 'none') return;
    if (out.kind === 'fan-out') {
      // Each name's route takes that name's event; the union does not let the compiler pair them.
      const route = this.deps.fanOut?.[out.name] as ((e: unknown) => Promise<void> | void) | undefined;
      try {
        await route?.(out.event);
      } catch (err) {
        this.deps.log?.warn({ err, event: out.name, roomId: out.event.roomId }, 'fan-out event failed');
        if (out.name !== 'stream.heartbeat') throw err;
      }
      return;
    }
    const line = { identity: out.event.eventId, source, eventName: out.name, streamName: out.event.roomId };
    try {
      const busId = await this.deps.bus.publish(out.name, out.event as never, busPublishOptions(out.name, out.event.roomId));
      this.deps.events?.write({ ...line, status: 'accepted', busId, body: out.event });
    } catch (err) {
      this.deps.log?.error({ err, eventId: out.event.eventId, event: out.name }, 'could not append the event to the bus');
      this.deps.events?.write({ ...line, status: 'refused', reason: 'bus_unavailable', body: out.event });
      throw err;
    }
  }
}
