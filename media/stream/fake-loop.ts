import { FlushScheduler, type Flushable, type SchedulerClock } from './flush-scheduler.js';
import type { MediaPacket } from './media-packet.js';

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

export const FRAME = 1000 / 30;
export const AUDIO = 1024 / 48;
/** CPU per viewer of one packet's fan-out (ms): ViewerSession.onPacket, measured ~0.6 us at 400 viewers. */
export const FAN_OUT_MS = 0.0006;
/** Viewers whose waits are recorded (every 16th), after the first 2 s. */
export const SAMPLE = 16;
export const WARM_MS = 2000;

export interface WaitSummary {
  writesPerViewerS: number;
  p50: number;
  p95: number;
}

export function summary(waits: number[], writes: number, n: number, seconds: number): WaitSummary {
  waits.sort((a, b) => a - b);
  const q = (f: number) => waits[Math.floor(f * (waits.length - 1))]!;
  return { writesPerViewerS: writes / n / seconds, p50: q(0.5), p95: q(0.95) };
}

function packet(isVideo: boolean, ts: number, seq: number): MediaPacket {
  const body = Buffer.alloc(isVideo ? 9000 : 400);
  return { type: isVideo ? 9 : 8, timestamp: Math.round(ts), seq, body, isKeyframe: false, isSequenceHeader: false, flvTag: () => body };
}

/**
 * `seconds` of one stream (video at 30 fps, AAC audio every ~21 ms) fanned out to `n` viewers on the
 * real FlushScheduler (ceiling 100 ms) and FakeLoop: each write costs `costMs` of CPU, each viewer's
 * share of a packet's fan-out FAN_OUT_MS. Returns, per viewer (every SAMPLE-th, after WARM_MS), how
 * long each video frame waited from its fan-out to that viewer's write (its place in the tick
 * included), and the writes per viewer and second.
 */
export function streamOnFakeClock(n: number, costMs: number, seconds: number): WaitSummary {
  const loop = new FakeLoop();
  const s = new FlushScheduler(100, undefined, loop);
  const pending: number[][] = Array.from({ length: n }, () => []);
  const waits: number[] = [];
  let writes = 0;
  const vs: Flushable[] = Array.from({ length: n }, (_, i) => ({
    flush: () => {
      loop.work(costMs);
      writes++;
      if (i % SAMPLE === 0 && loop.t > WARM_MS) for (const at of pending[i]!) waits.push(loop.t - at);
      pending[i] = [];
    },
  }));
  let seq = 0;
  const fanOut = (isVideo: boolean, ts: number): void => {
    const p = packet(isVideo, ts, ++seq);
    vs.forEach((v, i) => {
      if (isVideo) pending[i]!.push(loop.t);
      s.queued(p.body.length);
      s.schedule(v);
      if (isVideo) s.frameQueued(p);
      loop.work(FAN_OUT_MS);
    });
  };
  for (let t = 7; t < seconds * 1000; t += FRAME) loop.setTimeout(() => fanOut(true, t), t);
  for (let t = 0; t < seconds * 1000; t += AUDIO) loop.setTimeout(() => fanOut(false, t), t);
  loop.run(seconds * 1000 + 200);
  s.close();
  return summary(waits, writes, n, seconds);
}

