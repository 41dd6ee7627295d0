/**
 * `npx tsx bench/media-flush-model.ts`: how long video frames wait for their viewer's write, per viewer
 * (the place in the tick included), at rooms of 400 to 4,800, on a fake clock: no sockets, no timing,
 * seconds of a stream in well under a minute. Issue 15 point 1 (p50 <= 15 ms at 400, <= 50 ms at 4,800).
 *
 * - `scheduler`: the real FlushScheduler and FlushPolicy (media/stream) on FakeLoop. Each write costs
 *   `cost` of CPU (the fake clock moves by it), each viewer's share of a packet's fan-out 0.6 us.
 * - `staggered`: a model (not the engine) of ticks that write, at every video frame's fan-out, the
 *   share of the audience that waited longest, so that each viewer is written at the same rate as the
 *   scheduler writes it: the same writes, but a tick of 1/k of the viewers instead of all of them, so a
 *   viewer waits for 1/k of a tick's work for its place instead of half of all of it.
 *
 * Calibration (docs/benchmarks.md, issue 15): the scheduler here gives p50 ~3 ms at 400 and ~40 ms at
 * 1,600 at 7-8 us a write, as the quiet bench:media runs measured (3-5 ms; 40-54 ms).
 */
import { FakeLoop } from '../media/testing/fake-loop.js';
import { FlushScheduler, type Flushable } from '../media/stream/flush-scheduler.js';
import type { MediaPacket } from '../media/stream/media-packet.js';

const FRAME = 1000 / 30;
const AUDIO = 1024 / 48;
/** CPU per viewer of one packet's fan-out (ms): ViewerSession.onPacket, measured ~0.6 us at 400 viewers. */
const FAN_OUT_MS = 0.0006;
/** Viewers whose waits are recorded (every 16th), after the first 2 s. */
const SAMPLE = 16;
const WARM_MS = 2000;

interface Result {
  writesPerViewerS: number;
  p50: number;
  p95: number;
}

function summary(waits: number[], writes: number, n: number, seconds: number): Result {
  waits.sort((a, b) => a - b);
  const q = (f: number) => waits[Math.floor(f * (waits.length - 1))]!;
  return { writesPerViewerS: writes / n / seconds, p50: q(0.5), p95: q(0.95) };
}

function packet(isVideo: boolean, ts: number, seq: number): MediaPacket {
  const body = Buffer.alloc(isVideo ? 9000 : 400);
  return { type: isVideo ? 9 : 8, timestamp: Math.round(ts), seq, body, isKeyframe: false, isSequenceHeader: false, flvTag: () => body };
}

/** The real scheduler: per viewer, from each video frame's fan-out to that viewer's write. */
export function scheduler(n: number, costMs: number, seconds: number): Result {
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

/**
 * The staggered model: at each video frame's fan-out, the `n x FRAME / periodMs` viewers written
 * longest ago are written (in slices of 64; a packet's fan-out due meanwhile goes between slices).
 */
export function staggered(n: number, costMs: number, periodMs: number, seconds: number): Result {
  const events: { at: number; video: boolean }[] = [];
  for (let t = 7; t < seconds * 1000; t += FRAME) events.push({ at: t, video: true });
  for (let t = 0; t < seconds * 1000; t += AUDIO) events.push({ at: t, video: false });
  events.sort((a, b) => a.at - b.at);
  const pending: number[][] = Array.from({ length: n }, () => []);
  const oldestFirst = Array.from({ length: n }, (_, i) => i);
  const waits: number[] = [];
  let t = 0;
  let writes = 0;
  let credit = 0;
  let tick: number[] = [];
  for (let e = 0; e < events.length; ) {
    if (tick.length > 0 && events[e]!.at > t) {
      for (const v of tick.splice(0, 64)) {
        t += costMs;
        writes++;
        if (v % SAMPLE === 0 && t > WARM_MS) for (const at of pending[v]!) waits.push(t - at);
        pending[v] = [];
        oldestFirst.push(v);
      }
      continue;
    }
    const ev = events[e++]!;
    t = Math.max(t, ev.at);
    for (let v = 0; v < n; v++) {
      if (ev.video) pending[v]!.push(t);
      t += FAN_OUT_MS;
    }
    if (ev.video && tick.length === 0) {
      credit += (n * FRAME) / periodMs;
      const m = Math.floor(credit);
      credit -= m;
      tick = oldestFirst.splice(0, m);
    }
  }
  return summary(waits, writes, n, seconds);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const seconds = 10;
  const f = (x: number) => x.toFixed(1).padStart(6);
  console.log('viewers  us/write  | scheduler: writes/viewer/s  p50  p95 ms | staggered, same writes: p50  p95 ms');
  for (const [n, us] of [[400, 7], [400, 8], [1600, 7], [1600, 10], [4800, 7], [4800, 10]] as const) {
    const a = scheduler(n, us / 1000, seconds);
    const b = staggered(n, us / 1000, 1000 / a.writesPerViewerS, seconds);
    console.log(`${String(n).padStart(7)}  ${String(us).padStart(8)}  | ${f(a.writesPerViewerS)} ${f(a.p50)} ${f(a.p95)} | ${f(b.p50)} ${f(b.p95)}`);
  }
}
