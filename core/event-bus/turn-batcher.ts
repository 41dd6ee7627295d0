/**
 * Collects the items submitted during one event-loop turn and hands them to `flush` as one batch:
 * at once when `maxBatch` are waiting, otherwise on the next turn (setImmediate). Batches may be in
 * flight together; `flush` settles every item of its batch itself and must not reject.
 * The group commits of the event bus and of the callback handlers share this.
 */
export class TurnBatcher<T> {
  private queue: T[] = [];
  private scheduled = false;

  constructor(private readonly maxBatch: number, private readonly flush: (batch: T[]) => Promise<void>) {}

  push(item: T): void {
    this.queue.push(item);
    if (this.queue.length >= this.maxBatch) this.drain();
    else this.schedule();
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
    const batch = this.queue.splice(0, this.maxBatch);
    if (this.queue.length > 0) this.schedule();
    if (batch.length > 0) void this.flush(batch);
  }
}
