import type { EventBus } from '../../core/event-bus/event-bus.port.js';
import type { BusEvents } from '../../core/events/bus-events.js';
import type { DomainEvents } from '../../core/events/domain-events.js';
import type { Logger } from '../../core/logging/logger.js';
import type { DomainEventOut } from './domain-event-out.js';
import type { EdgeSource, LiveEventLog } from './live-event-log.js';

export interface EventIntakeDeps {
  bus: EventBus<BusEvents>;
  events?: LiveEventLog;
  /** The one handler of the fan-out heartbeat (the live-session service). */
  onHeartbeat?: (event: DomainEvents['stream.heartbeat']) => Promise<void> | void;
  log?: Logger;
}

/**
 * Where every edge hands its translated domain event: durable events are appended to the bus
 * (keyed by room, so one room's events stay in order) and logged in live_events; the heartbeat goes
 * to its handler. Resolves once the event is durable (the receiver answers 200 only then); rejects
 * when the bus is down (the receiver answers 503, the sender retries).
 */
export class EventIntake {
  constructor(private readonly deps: EventIntakeDeps) {}

  async accept(out: DomainEventOut, source: EdgeSource): Promise<void> {
    if (out.kind === 'none') return;
    if (out.kind === 'fan-out') {
      try {
        await this.deps.onHeartbeat?.(out.event);
      } catch (err) {
        this.deps.log?.warn({ err, roomId: out.event.roomId }, 'heartbeat failed');
      }
      return;
    }
    const line = { identity: out.event.eventId, source, eventName: out.name, streamName: out.event.roomId };
    try {
      const busId = await this.deps.bus.publish(out.name, out.event as never, { key: out.event.roomId });
      this.deps.events?.write({ ...line, status: 'accepted', busId, body: out.event });
    } catch (err) {
      this.deps.log?.error({ err, eventId: out.event.eventId, event: out.name }, 'could not append the event to the bus');
      this.deps.events?.write({ ...line, status: 'refused', reason: 'bus_unavailable', body: out.event });
      throw err;
    }
  }
}
