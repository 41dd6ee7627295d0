import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describeCacheContract } from './cache.contract.js';
import { RedisCache } from './redis-cache.js';
import { UnavailableError } from '../errors.js';

const url = process.env.ONAIR_TEST_REDIS_URL;
if (!url && process.env.ONAIR_STRICT === '1') {
  throw new Error('ONAIR_STRICT=1: ONAIR_TEST_REDIS_URL must be set to run the Redis cache contract');
}

if (url) {
  describeCacheContract('RedisCache', async () => new RedisCache({ url, prefix: `onair:test:${randomUUID()}:` }));

  describe('RedisCache specifics', () => {
    it('keeps keys under its prefix and deletes them all on request', async () => {
      const prefix = `onair:test:${randomUUID()}:`;
      const a = new RedisCache({ url, prefix });
      const b = new RedisCache({ url, prefix: `onair:test:${randomUUID()}:` });
      await a.set('k', 'from a');
      assert.equal(await b.get('k'), null, 'another prefix does not see the key');
      await a.sAdd('s', '1', '2');
      assert.equal(await a.deleteAllWithPrefix(), 2);
      assert.equal(await a.get('k'), null);
      await a.close();
      await b.close();
    });

    it('an unreachable server gives UnavailableError with a cause', async () => {
      const dead = new RedisCache({ url: 'redis://127.0.0.1:1', prefix: 'x:' });
      const err = await dead.get('k').then(() => null, (e: unknown) => e);
      assert.ok(err instanceof UnavailableError, String(err));
      assert.ok(err.cause);
      await dead.close();
    });
  });
} else {
  describe('RedisCache', () => {
    it('needs ONAIR_TEST_REDIS_URL', { skip: 'ONAIR_TEST_REDIS_URL is not set' }, () => undefined);
  });
}
