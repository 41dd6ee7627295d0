import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { FlushScheduler, type Flushable } from './flush-scheduler.js';
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
