import type { EventBus, EventCatalog } from '../event-bus/event-bus.port.js';
import type { InFlight } from './in-flight.js';

/**
 * The same bus, with every publish() counted in `inFlight` until it settles: a shutdown waits for
 * the appends in progress (a media event, a callback being accepted) before it closes the bus.
 * Everything else goes to the bus untouched (instanceof and `kind` still see the real adapter).
 */
export function trackPublishes<E extends EventCatalog>(bus: EventBus<E>, inFlight: InFlight): EventBus<E> {
  return new Proxy(bus, {
    get(target, prop) {
      if (prop === 'publish') {
        return (...args: Parameters<EventBus<E>['publish']>) => inFlight.track(target.publish(...args));
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
