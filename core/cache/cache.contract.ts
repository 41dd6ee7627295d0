import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Cache } from './cache.port.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The behaviour every Cache adapter must share. Each test uses its own keys (a fresh uuid), so the
 * suite can run against a Redis that other tests use at the same time.
 */
export function describeCacheContract(name: string, factory: () => Promise<Cache>): void {
  describe(`Cache contract: ${name}`, () => {
    let cache: Cache;
    const k = (label: string) => `contract:${randomUUID()}:${label}`;

    before(async () => {
      cache = await factory();
    });
    after(async () => {
      await cache.close();
    });

    it('gets, sets, overwrites and deletes strings', async () => {
      const key = k('s');
      assert.equal(await cache.get(key), null);
      await cache.set(key, 'one');
      assert.equal(await cache.get(key), 'one');
      await cache.set(key, 'two');
      assert.equal(await cache.get(key), 'two');
      assert.equal(await cache.exists(key), true);
      assert.equal(await cache.del(key, k('missing')), 1);
      assert.equal(await cache.exists(key), false);
      assert.equal(await cache.del(), 0);
    });

    it('expires keys after their TTL and reports ttl -1/-2', async () => {
      const key = k('ttl');
      await cache.set(key, 'v', 80);
      const left = await cache.ttl(key);
      assert.ok(left > 0 && left <= 80, `ttl ${left}`);
      await sleep(150);
      assert.equal(await cache.get(key), null);
      assert.equal(await cache.ttl(key), -2);
      await cache.set(key, 'forever');
      assert.equal(await cache.ttl(key), -1);
      assert.equal(await cache.expire(key, 60_000), true);
      assert.ok((await cache.ttl(key)) > 59_000);
      assert.equal(await cache.expire(k('missing'), 1000), false);
      await cache.set(key, 'plain');
      assert.equal(await cache.ttl(key), -1, 'SET without TTL clears the old TTL');
    });

    it('setIfAbsent takes a lock once, and again after it expires', async () => {
      const key = k('lock');
      assert.equal(await cache.setIfAbsent(key, 'a', 80), true);
      assert.equal(await cache.setIfAbsent(key, 'b', 80), false);
      assert.equal(await cache.get(key), 'a');
      await sleep(150);
      assert.equal(await cache.setIfAbsent(key, 'c', 1000), true);
      assert.equal(await cache.get(key), 'c');
    });

    it('concurrent setIfAbsent: exactly one winner', async () => {
      const key = k('race');
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => cache.setIfAbsent(key, String(i), 5000)));
      assert.equal(results.filter(Boolean).length, 1);
    });

    it('counts with incrBy, keeping a TTL', async () => {
      const key = k('n');
      assert.equal(await cache.incrBy(key, 1), 1);
      assert.equal(await cache.incrBy(key, 5), 6);
      assert.equal(await cache.incrBy(key, -7), -1);
      assert.equal(await cache.get(key), '-1');
      await cache.expire(key, 60_000);
      await cache.incrBy(key, 1);
      assert.ok((await cache.ttl(key)) > 0, 'INCRBY keeps the TTL');
      await cache.set(key, 'abc');
      await assert.rejects(cache.incrBy(key, 1), TypeError);
    });

    it('sets: add, remove, members, cardinality; empty set disappears', async () => {
      const key = k('set');
      assert.equal(await cache.sAdd(key, 'a', 'b', 'a'), 2);
      assert.equal(await cache.sAdd(key, 'b', 'c'), 1);
      assert.deepEqual((await cache.sMembers(key)).sort(), ['a', 'b', 'c']);
      assert.equal(await cache.sIsMember(key, 'b'), true);
      assert.equal(await cache.sIsMember(key, 'z'), false);
      assert.equal(await cache.sCard(key), 3);
      assert.equal(await cache.sRem(key, 'a', 'z'), 1);
      assert.equal(await cache.sRem(key, 'b', 'c'), 2);
      assert.equal(await cache.exists(key), false);
      assert.deepEqual(await cache.sMembers(key), []);
      assert.equal(await cache.sCard(key), 0);
    });

    it('hashes: set fields, read all, delete fields', async () => {
      const key = k('hash');
      assert.deepEqual(await cache.hGetAll(key), {});
      await cache.hSet(key, { status: 'live', room: '7' });
      await cache.hSet(key, { status: 'ended' });
      assert.deepEqual(await cache.hGetAll(key), { status: 'ended', room: '7' });
      assert.equal(await cache.hDel(key, 'room', 'nope'), 1);
      assert.deepEqual(await cache.hGetAll(key), { status: 'ended' });
      await cache.expire(key, 80);
      await sleep(150);
      assert.deepEqual(await cache.hGetAll(key), {});
    });

    it('sorted sets: increment, reverse range with scores, remove', async () => {
      const key = k('z');
      assert.equal(await cache.zIncrBy(key, 5, 'r1'), 5);
      await cache.zIncrBy(key, 10, 'r2');
      await cache.zIncrBy(key, 1, 'r3');
      assert.equal(await cache.zIncrBy(key, 7, 'r1'), 12);
      assert.deepEqual(await cache.zRevRange(key, 0, -1), [
        { member: 'r1', score: 12 },
        { member: 'r2', score: 10 },
        { member: 'r3', score: 1 },
      ]);
      assert.deepEqual(await cache.zRevRange(key, 0, 1), [
        { member: 'r1', score: 12 },
        { member: 'r2', score: 10 },
      ]);
      assert.deepEqual(await cache.zRevRange(key, -1, -1), [{ member: 'r3', score: 1 }]);
      assert.equal(await cache.zRem(key, 'r1', 'nope'), 1);
      assert.deepEqual((await cache.zRevRange(key, 0, -1)).map((e) => e.member), ['r2', 'r3']);
      assert.deepEqual(await cache.zRevRange(k('missing'), 0, -1), []);
    });

    it('sorted sets: add many in one call, range by score', async () => {
      const key = k('zs');
      assert.equal(await cache.zAdd(key, [{ member: 'a', score: 30 }, { member: 'b', score: 10 }, { member: 'c', score: 20 }]), 3);
      assert.equal(await cache.zAdd(key, [{ member: 'a', score: 5 }, { member: 'd', score: 40 }]), 1, 'a updated, d new');
      assert.equal(await cache.zAdd(key, []), 0);
      assert.deepEqual(await cache.zRangeByScore(key, -Infinity, 15), ['a', 'b']);
      assert.deepEqual(await cache.zRangeByScore(key, 20, Infinity), ['c', 'd']);
      assert.deepEqual(await cache.zRangeByScore(key, 10, 20), ['b', 'c']);
      assert.deepEqual(await cache.zRangeByScore(k('none'), -Infinity, Infinity), []);
    });

    it('using a key as the wrong type throws TypeError', async () => {
      const key = k('typed');
      await cache.sAdd(key, 'a');
      await assert.rejects(cache.get(key), TypeError);
      await assert.rejects(cache.hSet(key, { a: '1' }), TypeError);
      await cache.set(key, 'now a string');
      assert.equal(await cache.get(key), 'now a string', 'SET replaces any type');
    });
  });
}
