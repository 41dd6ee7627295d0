/**
 * Coalesces viewer writes: a viewer corks its socket when it gets the first packet of a batch and
 * registers here; one timer for the whole process uncorks every dirty viewer, so each viewer's
 * packets of that interval leave in one writev. One timer and one Set, whatever the viewer count.
 * A new viewer's start-up burst goes out at once (setImmediate), without flushing the others early.
 */
export interface Flushable {
  flush(): void;
}

export class FlushScheduler {
  private dirty = new Set<Flushable>();
  private urgent = new Set<Flushable>();
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;

  constructor(private readonly intervalMs: number) {}

  /** Flush at the next interval tick. */
  schedule(f: Flushable): void {
    this.dirty.add(f);
    if (!this.timer) {
      if (this.intervalMs > 0) this.timer = setTimeout(this.runDirty, this.intervalMs);
      else this.scheduleNow(f);
    }
  }

  /** Flush as soon as the current I/O callbacks are done (a new viewer's start-up burst). */
  scheduleNow(f: Flushable): void {
    this.urgent.add(f);
    this.immediate ??= setImmediate(this.runUrgent);
  }

  cancel(f: Flushable): void {
    this.dirty.delete(f);
    this.urgent.delete(f);
  }

  private readonly runUrgent = (): void => {
    this.immediate = undefined;
    const batch = this.urgent;
    this.urgent = new Set();
    for (const f of batch) f.flush();
  };

  private readonly runDirty = (): void => {
    this.timer = undefined;
    const batch = this.dirty;
    this.dirty = new Set();
    for (const f of batch) f.flush();
  };

  /** Flushes everything now and stops the timers. */
  close(): void {
    clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    this.runUrgent();
    this.runDirty();
  }
}
