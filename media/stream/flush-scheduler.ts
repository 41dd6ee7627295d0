/**
 * Coalesces viewer writes: a viewer corks its socket when it gets the first packet of a batch and
 * registers here; one timer for the whole process uncorks every dirty viewer, so each viewer's
 * packets of that interval leave in one writev. One timer and one Set, whatever the viewer count.
 */
export interface Flushable {
  flush(): void;
}

export class FlushScheduler {
  private dirty = new Set<Flushable>();
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;

  constructor(private readonly intervalMs: number) {}

  /** Flush at the next interval tick. */
  schedule(f: Flushable): void {
    this.dirty.add(f);
    if (!this.timer && !this.immediate) {
      this.timer = this.intervalMs > 0 ? setTimeout(this.run, this.intervalMs) : undefined;
      if (!this.timer) this.immediate = setImmediate(this.run);
    }
  }

  /** Flush as soon as the current I/O callbacks are done (a new viewer's start-up burst). */
  scheduleNow(f: Flushable): void {
    this.dirty.add(f);
    if (!this.immediate) this.immediate = setImmediate(this.run);
  }

  cancel(f: Flushable): void {
    this.dirty.delete(f);
  }

  private readonly run = (): void => {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    const batch = this.dirty;
    this.dirty = new Set();
    for (const f of batch) f.flush();
  };

  close(): void {
    this.run();
  }
}
