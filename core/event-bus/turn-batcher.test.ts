import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TurnBatcher } from './turn-batcher.js';

const nextTurn = () => new Promise((r) => setImmediate(r));

describe(TurnBatcher.name, () => {
  it('hands the items of one turn over as one batch on the next turn', async () => {
    const batches: number[][] = [];
    const b = new TurnBatcher<number>(100, async (batch) => void batches.push(batch));
    for (let i = 0; i < 5; i++) b.push(i);
    assert.deepEqual(batches, []);
    await nextTurn();
    assert.deepEqual(batches, [[0, 1, 2, 3, 4]]);
  });

  it('flushes at once when maxBatch items wait, and the rest on the next turn', async () => {
    const batches: number[][] = [];
    const b = new TurnBatcher<number>(3, async (batch) => void batches.push(batch));
    for (let i = 0; i < 7; i++) b.push(i);
    assert.deepEqual(batches, [[0, 1, 2], [3, 4, 5]]);
    await nextTurn();
    assert.deepEqual(batches, [[0, 1, 2], [3, 4, 5], [6]]);
    await nextTurn();
    assert.equal(batches.length, 3, 'no empty batches');
  });

  it('with maxInFlight 1, holds the next batch until the one in flight settles, then writes what came meanwhile as one', async () => {
    const batches: number[][] = [];
    const ends: Array<() => void> = [];
    const b = new TurnBatcher<number>(100, (batch) => {
      batches.push(batch);
      return new Promise<void>((resolve) => ends.push(resolve));
    }, { maxInFlight: 1 });
    b.push(0);
    await nextTurn();
    assert.deepEqual(batches, [[0]]);
    for (let i = 1; i <= 5; i++) {
      b.push(i);
      await nextTurn();
    }
    assert.deepEqual(batches, [[0]], 'nothing more while the first is in flight');
    let settled = false;
    const all = b.settled().then(() => (settled = true));
    ends[0]!();
    await nextTurn();
    assert.deepEqual(batches, [[0], [1, 2, 3, 4, 5]]);
    assert.equal(settled, false, 'settled() waits for every item pushed before it');
    ends[1]!();
    await all;
    assert.equal(settled, true);
    await b.settled(); // nothing pending: at once
  });

  it('settles a batch whose flush rejects, and goes on', async () => {
    const batches: number[][] = [];
    const b = new TurnBatcher<number>(100, async (batch) => {
      batches.push(batch);
      if (batch[0] === 0) throw new Error('flush failed');
    }, { maxInFlight: 1 });
    b.push(0);
    await nextTurn();
    b.push(1);
    await b.settled();
    assert.deepEqual(batches, [[0], [1]]);
  });
});
