import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { testBusFactories } from '../../core/testing/test-bus.js';
import { waitFor } from '../../core/testing/wait-for.js';
import { CALLBACK_GROUP } from '../callbacks/callback-consumer.js';
import { OperatorService } from './operator.service.js';

// The console overview's callback backlog, on each bus adapter: DbEventBus (SQLite, MariaDB) and
// RedisStreamEventBus (real Redis), wired as control/main.ts wires it.
for (const factory of testBusFactories()) {
  describe(`overview callback backlog on ${factory.name}`, () => {
    after(() => factory.destroy());

    it('counts the events the callbacks group has not acknowledged, and drops to 0 once they are handled', async () => {
      const bus = await factory.make<{ 'test.backlog': { n: number } }>();
      let now = 1_700_000_000_000;
      const operator = new OperatorService({
        store: {} as never, users: {} as never, rooms: {} as never, media: { listStreams: async () => [] }, metrics: new Registry(),
        bus, callbackBacklog: () => bus.backlog(CALLBACK_GROUP), now: () => now,
      });
      for (let n = 0; n < 3; n++) await bus.publish('test.backlog', { n });
      const first = (await operator.overview()) as Record<string, unknown>;
      assert.equal(first.callback_backlog, 3);
      assert.equal(first.dead_letters, 0);
      const consumer = bus.consume(CALLBACK_GROUP, async () => undefined, { pollIntervalMs: 50, backoffMs: 20, visibilityTimeoutMs: 2000 });
      try {
        await waitFor('the backlog back to 0', async () => {
          now += 1000; // the overview reuses a read less than 1 s old
          return ((await operator.overview()) as Record<string, unknown>).callback_backlog === 0 || undefined;
        }, 20_000, 100);
      } finally {
        await consumer.stop();
        await bus.close();
      }
    });
  });
}
