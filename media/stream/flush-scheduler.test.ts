import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { FlushScheduler, type Flushable } from './flush-scheduler.js';
import { FakeLoop } from '../testing/fake-loop.js';
import { MEDIAN_BOOST_MAX, MEDIAN_RATE } from './flush-policy.js';
import type { MediaPacket } from './media-packet.js';

/** Viewers that record the order in which a tick flushes them. */
function viewers(n: number, order: number[]): Flushable[] {
  return Array.from({ length: n }, (_, i) => ({ flush: () => void order.push(i) }));
}

/** Marks every viewer dirty, in order (the order of a packet's fan-out), and waits for the tick that writes them. */
async function tick(s: FlushScheduler, vs: Flushable[], order: number[]): Promise<number[]> {
  order.length = 0;
  for (const v of vs) s.schedule(v);
  while (order.length < vs.length) await new Promise((r) => setTimeout(r, 1));
  return order.slice();
}

describe(FlushScheduler.name, () => {
  it('writes every viewer of a tick once, and not always the last to join last (rotating start, slices of 64 included)', async () => {
    const n = 150; // three slices
    const order: number[] = [];
    const vs = viewers(n, order);
    const s = new FlushScheduler(20);
    const places: number[] = [];
    try {
      for (let t = 0; t < 12; t++) {
        const written = await tick(s, vs, order);
        assert.deepEqual([...written].sort((a, b) => a - b), vs.map((_, i) => i), `tick ${t}: each viewer once`);
        // Within a tick the order is the joining order, started somewhere and wrapping round.
        const first = written[0]!;
        assert.deepEqual(written, vs.map((_, i) => (first + i) % n), `tick ${t}: joining order from ${first}`);
        places.push(written.indexOf(n - 1));
      }
    } finally {
      s.close();
    }
    assert.ok(places.some((p) => p < n - 1), `the last to join is not always written last: ${places.join(', ')}`);
    const mean = places.reduce((a, b) => a + b, 0) / places.length;
    assert.ok(mean < 0.75 * n, `mean place of the last to join ${mean} of ${n}`);
  });

  it('close() writes the rest of a tick in progress and the viewers waiting for the next', async () => {
    const order: number[] = [];
    const vs = viewers(200, order);
    const s = new FlushScheduler(20);
    await tick(s, vs, order); // tick 0 starts at 0; the next one elsewhere
    order.length = 0;
    for (const v of vs) s.schedule(v);
    // Until the tick has written its first slice of 64 (the event loop turns between slices).
    while (order.length === 0) await new Promise((r) => setImmediate(r));
    assert.ok(order.length < vs.length, `a tick in progress (${order.length} written)`);
    const more = viewers(3, []);
    for (const v of more) s.schedule(v); // waiting for the next tick
    let extra = 0;
    for (const v of more) v.flush = () => void extra++;
    s.close();
    assert.deepEqual([...order].sort((a, b) => a - b), vs.map((_, i) => i), 'the rest of the tick, each once');
    assert.equal(extra, 3, 'and the viewers waiting for the next tick');
  });
});

/** Viewers whose write costs ~100 us of CPU, so that the policy measures a real cost and coalesces 200 of them (~0.4 s apart). */
function costlyViewers(n: number): Flushable[] {
  return Array.from({ length: n }, () => ({
    flush: () => {
      const end = performance.now() + 0.1;
      while (performance.now() < end);
    },
  }));
}

/** A video frame of a 5 fps stream (long frame intervals, a wide window: a loaded machine's stalls do not make the test miss it). */
function frame(i: number): MediaPacket {
  const body = Buffer.alloc(400);
  return { type: 9, timestamp: i * 200, seq: 2 * i + 1, body, isKeyframe: false, isSequenceHeader: false, flvTag: () => body };
}

/**
 * Fans out a frame every ~10 ms to the first `withFrame` of the viewers (the others queue
 * something else: audio, or another stream's packets) until `done` or `maxTicks` ticks.
 */
async function feed(s: FlushScheduler, vs: Flushable[], withFrame: number, done: () => boolean, maxTicks: number): Promise<void> {
  for (let i = 0; !done() && s.ticks < maxTicks; i++) {
    const p = frame(i);
    vs.forEach((v, k) => {
      s.queued(400);
      s.schedule(v);
      if (k < withFrame) s.frameQueued(p);
    });
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('FlushScheduler with a group (a stream\'s shared run)', () => {
  it('flushes each member of a dirty group once per tick, with the viewers scheduled on their own (once each, even in both)', async () => {
    const order: number[] = [];
    const vs = viewers(5, order);
    const s = new FlushScheduler(5);
    const members = new Set(vs.slice(0, 3));
    const group = { get size() { return members.size; }, members: () => members };
    try {
      for (let k = 0; k < 4; k++) s.scheduleGroup(group); // once per packet, whatever the members
      s.schedule(vs[2]!); // a member also dirty on its own
      s.schedule(vs[3]!);
      while (order.length < 4) await new Promise((r) => setTimeout(r, 1));
      await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual([...order].sort(), [0, 1, 2, 3], 'members and viewers, each once; the rest not');
    } finally {
      s.close();
    }
  });

  it('counts the members of a group as viewers a frame went to (FrameAlign)', async () => {
    const vs = costlyViewers(200);
    const members = new Set(vs);
    const group = { get size() { return members.size; }, members: () => members };
    const s = new FlushScheduler(1000);
    try {
      for (let i = 0; s.alignedTicks < 2 && s.ticks < 40; i++) {
        const p = frame(i);
        s.queued(400 * members.size);
        s.scheduleGroup(group);
        s.frameQueued(p, members.size);
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.ok(s.alignedTicks >= 2, `${s.alignedTicks} of ${s.ticks} ticks started at a frame`);
    } finally {
      s.close();
    }
  });
});

describe('FlushScheduler aligned to video frames', () => {
  it('starts a due tick at the fan-out of a frame that went to the waiting viewers, not by the timer', async () => {
    const vs = costlyViewers(200);
    const s = new FlushScheduler(1000);
    try {
      await feed(s, vs, vs.length, () => s.alignedTicks >= 2, 40);
      assert.ok(s.alignedTicks >= 2, `${s.alignedTicks} of ${s.ticks} ticks started at a frame`);
    } finally {
      s.close();
    }
  });

  it('does not follow a frame that went to half of the waiting viewers or fewer (several streams): the timer decides, as before', async () => {
    const vs = costlyViewers(200);
    const s = new FlushScheduler(1000);
    try {
      await feed(s, vs, vs.length / 2, () => false, 5);
      assert.ok(s.ticks >= 5);
      assert.equal(s.alignedTicks, 0);
    } finally {
      s.close();
    }
  });
});

/** 30 fps. */
const FRAME = 1000 / 30;

/**
 * `seconds` of one stream (video at 30 fps, AAC audio every ~21 ms) fanned out to `n` viewers whose
 * writes cost `costMs` each, on the real scheduler (ceiling 100 ms) and a fake clock. `video` false
 * reports no video frame to the scheduler (as for an audio-only stream: no alignment). Returns the
 * ticks, how long each video frame waited from its fan-out to its tick, and the aligned ticks.
 */
function run(n: number, costMs: number, video: boolean, seconds = 30): { ticks: number; waits: number[]; aligned: number } {
  const loop = new FakeLoop();
  const s = new FlushScheduler(100, undefined, loop);
  let pending: number[] = [];
  const waits: number[] = [];
  const vs: Flushable[] = Array.from({ length: n }, () => ({
    flush: () => {
      for (const at of pending) waits.push(loop.t - at);
      pending = [];
      loop.work(costMs);
    },
  }));
  let seq = 0;
  const packet = (isVideo: boolean, ts: number): MediaPacket => {
    const body = Buffer.alloc(isVideo ? 9000 : 400);
    return { type: isVideo ? 9 : 8, timestamp: Math.round(ts), seq: ++seq, body, isKeyframe: false, isSequenceHeader: false, flvTag: () => body };
  };
  const fanOut = (isVideo: boolean, ts: number): void => {
    const p = packet(isVideo, ts);
    if (isVideo) pending.push(loop.t);
    for (const v of vs) {
      s.queued(p.body.length);
      s.schedule(v);
      if (isVideo && video) s.frameQueued(p);
    }
  };
  for (let t = 7; t < seconds * 1000; t += FRAME) loop.setTimeout(() => fanOut(true, t), t);
  for (let t = 0; t < seconds * 1000; t += 1024 / 48) loop.setTimeout(() => fanOut(false, t), t);
  loop.run(seconds * 1000 + 200);
  s.close();
  return { ticks: s.ticks, waits, aligned: s.alignedTicks };
}

const share = (xs: number[], f: (x: number) => boolean) => xs.filter(f).length / xs.length;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

describe('FlushScheduler on a fake clock: ticks at video frames', () => {
  it('400 viewers at 8 us a write: most frames are written at their fan-out (median ~0), for MEDIAN_RATE ticks per frame', () => {
    const seconds = 30;
    const frames = (seconds * 1000) / FRAME;
    const aligned = run(400, 0.008, true, seconds);
    const audioOnly = run(400, 0.008, false, seconds);
    // The budget alone (no frames to align to): ~1 tick per 64 ms, a bit over one per two frames.
    assert.ok(audioOnly.ticks / frames > MEDIAN_RATE / MEDIAN_BOOST_MAX && audioOnly.ticks / frames < MEDIAN_RATE, `budget: ${(audioOnly.ticks / frames).toFixed(3)} ticks per frame`);
    const atOnce = share(aligned.waits, (w) => w < 1);
    assert.ok(atOnce > 0.55, `${(100 * atOnce).toFixed(0)} % of the frames written at their fan-out`);
    assert.ok(median(aligned.waits) < 1, `median frame wait ${median(aligned.waits).toFixed(1)} ms`);
    const rate = aligned.ticks / frames;
    assert.ok(rate > MEDIAN_RATE - 0.04 && rate < MEDIAN_RATE + 0.04, `aligned: ${rate.toFixed(3)} ticks per frame`);
    assert.ok(aligned.ticks <= audioOnly.ticks * MEDIAN_BOOST_MAX, `at most x${MEDIAN_BOOST_MAX} the budget's ticks (${aligned.ticks} against ${audioOnly.ticks})`);
    assert.ok(median(audioOnly.waits) > 10, `unaligned: median ${median(audioOnly.waits).toFixed(1)} ms`);
  });

  it('400 viewers at 11.5 us a write (a budget of about one tick per three frames): raised to MEDIAN_RATE too, within MEDIAN_BOOST_MAX', () => {
    const seconds = 30;
    const frames = (seconds * 1000) / FRAME;
    const aligned = run(400, 0.0115, true, seconds);
    const unaligned = run(400, 0.0115, false, seconds);
    const budget = unaligned.ticks / frames;
    assert.ok(budget < 0.46 && budget >= MEDIAN_RATE / MEDIAN_BOOST_MAX, `budget: ${budget.toFixed(3)} ticks per frame`);
    const rate = aligned.ticks / frames;
    assert.ok(rate > MEDIAN_RATE - 0.04 && rate < MEDIAN_RATE + 0.04, `aligned: ${rate.toFixed(3)} ticks per frame`);
    assert.ok(aligned.ticks <= unaligned.ticks * MEDIAN_BOOST_MAX, `ticks ${aligned.ticks} against ${unaligned.ticks}`);
    assert.ok(aligned.aligned > 0.8 * aligned.ticks, `most ticks at a frame (${aligned.aligned} of ${aligned.ticks})`);
    assert.ok(median(aligned.waits) < 1, `median frame wait ${median(aligned.waits).toFixed(1)} ms`);
    assert.ok(median(unaligned.waits) > 10, `unaligned: median ${median(unaligned.waits).toFixed(1)} ms`);
  });

  it('at the ceiling (3,000 viewers) a tick moved half a frame early costs at most that share of the period more ticks', () => {
    const cost = 0.008; // 24 ms of writes per tick
    const aligned = run(3000, cost, true, 20);
    const unaligned = run(3000, cost, false, 20);
    const bound = 1 + FRAME / 2 / (100 + 3000 * cost);
    assert.ok(aligned.ticks <= unaligned.ticks * bound + 1, `ticks ${aligned.ticks} against ${unaligned.ticks} (bound x ${bound.toFixed(3)})`);
    // Only early (no later than the ceiling): the frames in the half interval before the due time.
    assert.ok(aligned.aligned > 0.3 * aligned.ticks, `${aligned.aligned} of ${aligned.ticks} ticks at a frame`);
  });
});
