import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FlushScheduler, type Flushable } from './flush-scheduler.js';

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
