import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeCacheContract } from './cache.contract.js';
import { MemoryCache } from './memory-cache.js';

describeCacheContract('MemoryCache', async () => new MemoryCache());

describe('MemoryCache sweeping', () => {
  it('the periodic sweep drops expired keys nobody reads', async () => {
    let now = 1_000;
    const cache = new MemoryCache({ now: () => now, sweepMs: 60_000 });
    await cache.set('a', '1', 100);
    await cache.sAdd('b', 'x');
    await cache.expire('b', 50);
    await cache.set('c', 'kept');
    now += 200;
    assert.equal(cache.sweep(), 2);
    assert.equal(cache.size, 1);
    await cache.close();
    await cache.close(); // idempotent
    await assert.rejects(cache.get('c'));
  });
});
