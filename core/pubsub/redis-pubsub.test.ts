import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { describePubSubContract } from './pubsub.contract.js';
import { RedisPubSub } from './redis-pubsub.js';
import { UnavailableError } from '../errors.js';
import { testPubSubs } from '../testing/test-pubsubs.js';

const redis = testPubSubs().find((f) => f.name === 'redis');

if (redis) {
  describePubSubContract('RedisPubSub', (options) => redis.cluster(options), { dropsConnections: true });

  describe('RedisPubSub specifics', () => {
    it('an unreachable server gives UnavailableError with a cause, and close() still returns', async () => {
      const dead = new RedisPubSub({ url: 'redis://127.0.0.1:1', prefix: 'x:' });
      const calls = [() => dead.publish('room:1', 1), () => dead.publishKept('room:1', 1), () => dead.subscribe('room:1', () => undefined), () => dead.recent('room:1')];
      for (const err of await Promise.all(calls.map((call) => call().then(() => null, (e: unknown) => e)))) {
        assert.ok(err instanceof UnavailableError, String(err));
        assert.ok(err.cause);
      }
      assert.equal(dead.subscribedChannels, 0, 'a failed subscribe leaves nothing behind');
      await dead.close();
    });
  });
} else {
  describe('RedisPubSub', () => {
    it('needs ONAIR_TEST_REDIS_URL', { skip: 'ONAIR_TEST_REDIS_URL is not set' }, () => undefined);
  });
}
