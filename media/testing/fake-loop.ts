import type { SchedulerClock } from '../stream/flush-scheduler.js';

/**
 * A fake event loop for the scheduler (SchedulerClock): time moves only when a callback does work
 * (work()) or the loop waits for the next timer. Each turn runs the timers that are due (the
 * publisher's packets arrive as timers), then the immediates queued before the turn, as libuv does.
 * Used by flush-scheduler.test.ts and bench/media-flush-model.ts (no timing: only the decisions).
 */
export class FakeLoop implements SchedulerClock {
  t = 0;
  cpu = 0;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private immediates: { fn: () => void; cancelled: boolean }[] = [];
  private ids = 0;
  now = (): number => this.t;
  cpuMs = (): number => this.cpu;
  setTimeout = (fn: () => void, ms: number): unknown => {
    const h = { at: this.t + Math.max(1, ms), fn, id: this.ids++ };
    this.timers.push(h);
    return h;
  };
  clearTimeout = (h: unknown): void => {
    this.timers = this.timers.filter((x) => x !== h);
  };
  setImmediate = (fn: () => void): unknown => {
    const h = { fn, cancelled: false };
    this.immediates.push(h);
    return h;
  };
  clearImmediate = (h: unknown): void => {
    if (h) (h as { cancelled: boolean }).cancelled = true;
  };
  /** A callback's CPU work: the clock moves with it. */
  work(ms: number): void {
    this.t += ms;
    this.cpu += ms;
  }
  /** Runs the loop until `endMs` (bounded: at most 10 million callbacks). */
  run(endMs: number): void {
    for (let n = 0; n < 10_000_000; n++) {
      const due = this.timers.filter((x) => x.at <= this.t).sort((a, b) => a.at - b.at || a.id - b.id);
      for (const x of due) {
        this.timers = this.timers.filter((y) => y !== x);
        x.fn();
      }
      if (this.immediates.length > 0) {
        const batch = this.immediates;
        this.immediates = [];
        for (const h of batch) if (!h.cancelled) h.fn();
        continue;
      }
      if (due.length > 0) continue;
      const next = this.timers.reduce((m, x) => Math.min(m, x.at), Infinity);
      if (next > endMs) return;
      this.t = Math.max(this.t, next);
    }
    throw new Error('FakeLoop: too many callbacks');
  }
}
