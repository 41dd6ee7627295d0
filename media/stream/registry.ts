import { TypedEmitter } from '../../core/events/typed-emitter.js';
import type { Logger } from '../../core/logging/logger.js';
import type { StreamRegistryEvents, StreamRegistryView } from './stream-view.js';
import { Stream, type StreamOptions } from './stream.js';

/**
 * The streams by public name. A new publish of a name that is live replaces the old publisher
 * (its 'kick' fires with reason 'replaced'): an encoder that reconnects after a network cut must
 * not be locked out by its own half-dead previous connection.
 */
export class StreamRegistry extends TypedEmitter<StreamRegistryEvents> implements StreamRegistryView {
  private readonly streams = new Map<string, Stream>();

  constructor(log: Logger) {
    super();
    this.emitterLog = log;
  }

  get(name: string): Stream | undefined {
    return this.streams.get(name);
  }

  list(): Stream[] {
    return [...this.streams.values()];
  }

  get size(): number {
    return this.streams.size;
  }

  /** Registers a new live stream and emits 'publish'. Replaces (kicks) a current one of the same name. */
  create(opts: StreamOptions): Stream {
    this.streams.get(opts.name)?.kick('replaced');
    const stream = new Stream(opts);
    this.streams.set(opts.name, stream);
    stream.on('close', () => {
      if (this.streams.get(stream.name) === stream) this.streams.delete(stream.name);
      this.safeEmit('unpublish', stream);
    });
    this.safeEmit('publish', stream);
    return stream;
  }

  /** Closes every stream (engine shutdown). */
  closeAll(reason: 'closed' = 'closed'): void {
    for (const s of [...this.streams.values()]) s.kick(reason);
  }
}
