import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Snowflake } from './ids.js';

describe('Snowflake', () => {
  it('makes increasing, unique 64-bit ids that carry their time', () => {
    const flake = new Snowflake(7);
    const now = Date.UTC(2026, 10, 21, 12);
    const ids = Array.from({ length: 10_000 }, () => flake.next(now));
    assert.equal(new Set(ids).size, ids.length);
    for (let i = 1; i < ids.length; i++) assert.ok(BigInt(ids[i]!) > BigInt(ids[i - 1]!));
    assert.ok(BigInt(ids.at(-1)!) < 2n ** 63n);
    // 10,000 ids in one millisecond borrow at most 3 following milliseconds.
    assert.ok(Snowflake.timeOf(ids[0]!).getTime() === now);
    assert.ok(Snowflake.timeOf(ids.at(-1)!).getTime() - now <= 3);
  });

  it('keeps increasing when the clock goes back', () => {
    const flake = new Snowflake(1);
    const a = flake.next(Date.UTC(2026, 10, 21, 12));
    const b = flake.next(Date.UTC(2026, 10, 21, 11));
    assert.ok(BigInt(b) > BigInt(a));
  });

  it('rejects a worker id out of range', () => {
    assert.throws(() => new Snowflake(1024), TypeError);
  });
});
