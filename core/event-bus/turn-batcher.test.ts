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
});
