import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { requireEnv } from '../testing/test-bus.js';
import { missingTool } from '../testing/tools.js';
import { startRedisServer, type TestRedisServer } from '../testing/redis-server.js';
import { MemoryRateLimits, RedisRateLimits, type RateLimits } from './index.js';

/** The contract both adapters keep: count, refuse past the limit, block, reset. */
function describeRateLimitsContract(name: string, make: () => Promise<RateLimits>) {
  describe(`RateLimits contract: ${name}`, () => {
    let limits: RateLimits;
    before(async () => {
      limits = await make();
    });
    after(() => limits.close());

    it('allows `points` per window, then refuses with the time left', async () => {
      const c = limits.counter('contract_window', { points: 3, durationMs: 60_000 });
      for (let i = 1; i <= 3; i++) assert.deepEqual((await c.consume('k')).allowed, true);
      const over = await c.consume('k');
      assert.equal(over.allowed, false);
      assert.ok(over.retryAfterMs > 50_000 && over.retryAfterMs <= 60_000, `${over.retryAfterMs}`);
      assert.equal((await c.peek('k')).allowed, false);
      assert.equal((await c.consume('other')).allowed, true, 'keys are counted apart');
    });

    it('counters of different names never share keys', async () => {
      const a = limits.counter('contract_a', { points: 1, durationMs: 60_000 });
      const b = limits.counter('contract_b', { points: 1, durationMs: 60_000 });
      await a.consume('k');
      assert.equal((await a.consume('k')).allowed, false);
      assert.equal((await b.consume('k')).allowed, true);
    });

    it('blocks a key for a while and forgets it on reset', async () => {
      const c = limits.counter('contract_block', { points: 1, durationMs: 1000 });
      assert.equal((await c.peek('k')).allowed, true);
      await c.block('k', 30_000);
      const blocked = await c.peek('k');
      assert.equal(blocked.allowed, false);
      assert.ok(blocked.retryAfterMs > 25_000);
      await c.reset('k');
      assert.equal((await c.peek('k')).allowed, true);
    });

    it('opens again when the window ends', async () => {
      const c = limits.counter('contract_expiry', { points: 1, durationMs: 1000 });
      await c.consume('k');
      assert.equal((await c.consume('k')).allowed, false);
      await new Promise((r) => setTimeout(r, 1100));
      assert.equal((await c.consume('k')).allowed, true);
    });
  });
}

describeRateLimitsContract('MemoryRateLimits', async () => new MemoryRateLimits());

const redisUrl = requireEnv('ONAIR_TEST_REDIS_URL');
if (redisUrl) {
  const prefix = () => `onair:t:rl:${randomBytes(4).toString('hex')}:`;
  describeRateLimitsContract('RedisRateLimits', async () => {
    const limits = new RedisRateLimits({ url: redisUrl, prefix: prefix() });
    await limits.ready();
    return limits;
  });

  describe('RedisRateLimits specifics', () => {
    it('two instances on one prefix (two control nodes) share their counts', async () => {
      const p = prefix();
      const a = new RedisRateLimits({ url: redisUrl, prefix: p });
      const b = new RedisRateLimits({ url: redisUrl, prefix: p });
      try {
        await Promise.all([a.ready(), b.ready()]);
        const opts = { points: 2, durationMs: 60_000 };
        assert.equal((await a.counter('shared', opts).consume('x')).allowed, true);
        assert.equal((await b.counter('shared', opts).consume('x')).allowed, true);
        assert.equal((await a.counter('shared', opts).consume('x')).allowed, false);
        await b.counter('lock', opts).block('y', 30_000);
        assert.equal((await a.counter('lock', opts).peek('y')).allowed, false);
      } finally {
        await a.close();
        await b.close();
      }
    });
  });
}

describe('RedisRateLimits while Redis is away', { skip: missingTool('redis-server', '--version') }, () => {
  let redis: TestRedisServer;
  before(async () => {
    redis = await startRedisServer();
  });
  after(() => redis.stop());

  it('keeps limiting in this process (never open, never hanging), and goes back to Redis when it returns', async () => {
    const limits = new RedisRateLimits({ url: redis.url, prefix: 'outage:' });
    try {
      await limits.ready();
      const c = limits.counter('outage', { points: 2, durationMs: 60_000 });
      await redis.kill();
      const started = Date.now();
      assert.equal((await c.consume('k')).allowed, true);
      assert.equal((await c.consume('k')).allowed, true);
      assert.equal((await c.consume('k')).allowed, false, 'the in-process fallback still limits');
      assert.ok(Date.now() - started < 1500, 'no waiting on the dead server');
      await redis.restart();
      await limits.ready(10_000);
      const { waitFor } = await import('../testing/wait-for.js');
      await waitFor('counting in Redis again', async () => (await c.consume('fresh')).allowed, 10_000, 100);
    } finally {
      await limits.close();
    }
  });
});
