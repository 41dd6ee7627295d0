import { EventEmitter } from 'node:events';
import type { Logger } from '../logging/logger.js';

/**
 * Maps each event name to the tuple of its listener's arguments. Written as a self-referencing
 * constraint so plain interfaces and mapped types qualify without an index signature (which would
 * widen `on()` to any string and make an emitter unassignable to a narrower listener interface).
 */
export type EventMap<E> = { [K in keyof E]: unknown[] };

/**
 * An EventEmitter whose event names and payloads are checked by the compiler
 * (mediasoup's EnhancedEventEmitter). safeEmit() keeps a throwing listener from breaking the engine.
 */
export class TypedEmitter<E extends EventMap<E>> extends EventEmitter {
  protected emitterLog?: Logger;

  override on<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    return super.on(event, listener as (...args: unknown[]) => void);
  }
  override once<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    return super.once(event, listener as (...args: unknown[]) => void);
  }
  override off<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    return super.off(event, listener as (...args: unknown[]) => void);
  }
  override emit<K extends keyof E & string>(event: K, ...args: E[K]): boolean {
    return super.emit(event, ...args);
  }

  /** Emits, catching and logging whatever a listener throws. */
  safeEmit<K extends keyof E & string>(event: K, ...args: E[K]): boolean {
    try {
      return super.emit(event, ...args);
    } catch (err) {
      this.emitterLog?.error({ err, event }, 'event listener threw');
      return true;
    }
  }
}
