export interface TurnBatcherOptions {
  /**
   * How many batches may be handed to `flush` and not yet settled at a time (default: no limit).
   * With 1 it is a group commit: items that arrive while a batch is being written wait for it and
   * go together in the next batch, so under load the batches grow with the write's own latency
   * instead of the writes multiplying (each costs a query's fixed CPU), and when idle nothing
   * changes (the first item still goes on the next turn).
   */
  maxInFlight?: number;
}

/**
 * Collects the items submitted during one event-loop turn and hands them to `flush` as one batch:
 * at once when `maxBatch` are waiting, otherwise on the next turn (setImmediate), and never more
 * than `maxInFlight` batches at a time. Batches may be in flight together (up to that limit);
 * `flush` settles every item of its batch itself and must not reject.
 * The group commits of the event bus and of the callback handlers share this.
 */
export class TurnBatcher<T> {
  private queue: T[] = [];
  private scheduled = false;
  private readonly maxInFlight: number;
  private inFlight = 0;
  /** Items pushed so far, and the end (in that count) of each batch not yet settled, oldest first. */
  private pushed = 0;
  private readonly flights: Array<{ end: number; done: boolean }> = [];
  /** Every item up to this count is in a settled batch. */
  private settledUpTo = 0;
  private waiters: Array<{ upTo: number; resolve: () => void }> = [];

  constructor(
    private readonly maxBatch: number,
    private readonly flush: (batch: T[]) => Promise<void>,
    options: TurnBatcherOptions = {},
  ) {
    this.maxInFlight = options.maxInFlight ?? Infinity;
  }

  push(item: T): void {
    this.queue.push(item);
    this.pushed++;
    if (this.queue.length >= this.maxBatch) this.drain();
    else this.schedule();
  }

  /** Resolves once every item pushed so far has been handed to `flush` and its batch has settled. */
  settled(): Promise<void> {
    const upTo = this.pushed;
    if (this.settledUpTo >= upTo) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ upTo, resolve }));
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.drain();
    });
  }

  private drain(): void {
    // At the limit, the batch in flight drains the queue when it settles.
    if (this.inFlight >= this.maxInFlight) return;
    const batch = this.queue.splice(0, this.maxBatch);
    if (this.queue.length > 0) this.schedule();
    if (batch.length === 0) return;
    const flight = { end: this.pushed - this.queue.length, done: false };
    this.flights.push(flight);
    this.inFlight++;
    const settle = () => {
      this.inFlight--;
      flight.done = true;
      this.release();
      if (this.queue.length > 0) this.drain();
    };
    this.flush(batch).then(settle, settle);
  }

  private release(): void {
    while (this.flights.length > 0 && this.flights[0]!.done) this.settledUpTo = this.flights.shift()!.end;
    if (this.waiters.length === 0) return;
    const ready = this.waiters.filter((w) => w.upTo <= this.settledUpTo);
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((w) => w.upTo > this.settledUpTo);
    for (const w of ready) w.resolve();
  }
}
