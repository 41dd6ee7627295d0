import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { TypedEmitter } from '../events/typed-emitter.js';
import type { Logger } from '../logging/logger.js';
import { RejectedEventError } from '../errors.js';
import type {
  AnyDelivery, BusHandler, ConsumeOptions, Consumer, ConsumerEvents, ConsumerStats, EventCatalog,
} from './event-bus.port.js';

/** What an adapter supplies to the shared consumer loop: the storage side of one consumer. */
export interface ConsumerBackend {
  /**
   * Leases up to `max` deliveries for this consumer, ordered by id: retries that are due and
   * entries whose lease expired first, then new events. May wait up to `waitMs` when there is none.
   */
  fetch(max: number, waitMs: number): Promise<Array<AnyDelivery<EventCatalog>>>;
  /** Acknowledges handled deliveries (they are never delivered again to this group). */
  ack(deliveries: Array<AnyDelivery<EventCatalog>>): Promise<void>;
  /** Keeps the delivery leased until retryAt, remembering the error. */
  retry(delivery: AnyDelivery<EventCatalog>, error: Error, retryAt: number): Promise<void>;
  /** Moves the delivery to the dead-letter store and acknowledges it. */
  deadLetter(delivery: AnyDelivery<EventCatalog>, error: Error): Promise<void>;
  /** Interrupts a waiting fetch (stop). */
  interrupt(): void;
  /** Releases what the backend holds (a blocking Redis connection). */
  close(): Promise<void>;
}

export interface ResolvedConsumeOptions {
  consumer: string;
  batchSize: number;
  concurrency: number;
  maxAttempts: number;
  backoffMs: number;
  visibilityTimeoutMs: number;
  pollIntervalMs: number;
}

export function resolveConsumeOptions(options: ConsumeOptions = {}): ResolvedConsumeOptions {
  return {
    consumer: options.consumer ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`,
    batchSize: options.batchSize ?? 100,
    concurrency: options.concurrency ?? 16,
    maxAttempts: options.maxAttempts ?? 3,
    backoffMs: options.backoffMs ?? 200,
    visibilityTimeoutMs: options.visibilityTimeoutMs ?? 30_000,
    pollIntervalMs: options.pollIntervalMs ?? 500,
  };
}

/** Delay before the retry that follows delivery number `attempt` (1-based): base, 2*base, 4*base... capped at 5 min. */
export function backoffDelay(baseMs: number, attempt: number): number {
  return Math.min(baseMs * 2 ** Math.max(0, attempt - 1), 300_000);
}

const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

/**
 * The consumer loop both adapters share: fetch a batch, run the handler (same-key deliveries in
 * order, different keys in parallel up to `concurrency`), acknowledge the successes in one call,
 * schedule retries or dead-letter the failures. A storage failure never loses an event: what was
 * not acknowledged stays leased and comes back after the visibility timeout.
 */
export class ConsumerLoop extends TypedEmitter<ConsumerEvents> implements Consumer {
  readonly stats: ConsumerStats = { processed: 0, retried: 0, dead: 0, inFlight: 0 };
  private running = true;
  private readonly done: Promise<void>;
  private stopping?: Promise<void>;

  constructor(
    readonly group: string,
    private readonly handler: BusHandler<EventCatalog>,
    private readonly backend: ConsumerBackend,
    private readonly options: ResolvedConsumeOptions,
    private readonly log: Logger,
    private readonly onStopped: () => void,
  ) {
    super();
    this.emitterLog = log;
    this.done = this.run();
  }

  get name(): string {
    return this.options.consumer;
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.running = false;
      this.backend.interrupt();
      await this.done;
      await this.backend.close().catch((err: unknown) => this.log.warn({ err }, 'closing consumer backend failed'));
      this.onStopped();
    })();
    return this.stopping;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      let batch: Array<AnyDelivery<EventCatalog>>;
      try {
        batch = await this.backend.fetch(this.options.batchSize, this.options.pollIntervalMs);
        failures = 0;
      } catch (err) {
        if (!this.running) break;
        failures++;
        this.reportError(err);
        await sleep(Math.min(100 * 2 ** failures, 2000));
        continue;
      }
      if (batch.length === 0) continue;
      await this.runBatch(batch);
    }
  }

  private async runBatch(batch: Array<AnyDelivery<EventCatalog>>): Promise<void> {
    // Same key -> one chain, run in id order; chains run side by side.
    const chains = new Map<string, Array<AnyDelivery<EventCatalog>>>();
    for (const d of batch) {
      const chainKey = d.key ?? `#${d.id}`;
      const chain = chains.get(chainKey);
      if (chain) chain.push(d);
      else chains.set(chainKey, [d]);
    }
    const succeeded: Array<AnyDelivery<EventCatalog>> = [];
    const queue = [...chains.values()];
    const worker = async () => {
      for (let chain = queue.shift(); chain; chain = queue.shift()) {
        for (const d of chain) {
          if (await this.deliver(d)) succeeded.push(d);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.options.concurrency, queue.length) }, worker));
    if (succeeded.length === 0) return;
    try {
      await this.backend.ack(succeeded);
      this.stats.processed += succeeded.length;
      for (const d of succeeded) this.safeEmit('processed', d);
    } catch (err) {
      // Not acknowledged: they come back after the lease; handlers are idempotent.
      this.reportError(err);
    }
  }

  /** Runs the handler once; true when it succeeded. Failures are retried or dead-lettered here. */
  private async deliver(d: AnyDelivery<EventCatalog>): Promise<boolean> {
    this.stats.inFlight++;
    try {
      await this.handler(d);
      return true;
    } catch (raw) {
      const error = asError(raw);
      try {
        if (d.attempt >= this.options.maxAttempts || error instanceof RejectedEventError) {
          await this.backend.deadLetter(d, error);
          this.stats.dead++;
          this.log.warn({ eventId: d.id, name: d.name, attempt: d.attempt, err: error }, 'event dead-lettered');
          this.safeEmit('dead', d, error);
        } else {
          const retryAt = Date.now() + backoffDelay(this.options.backoffMs, d.attempt);
          await this.backend.retry(d, error, retryAt);
          this.stats.retried++;
          this.log.debug({ eventId: d.id, name: d.name, attempt: d.attempt, err: error }, 'event will be retried');
          this.safeEmit('retried', d, error, retryAt);
        }
      } catch (storageErr) {
        this.reportError(storageErr);
      }
      return false;
    } finally {
      this.stats.inFlight--;
    }
  }

  private reportError(err: unknown): void {
    const error = asError(err);
    this.log.error({ err: error, group: this.group }, 'event bus consumer error');
    if (this.listenerCount('error') > 0) this.safeEmit('error', error);
  }
}

export function sleep(ms: number, signal?: { wake?: () => void }): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    if (signal) signal.wake = () => { clearTimeout(timer); resolve(); };
  });
}
