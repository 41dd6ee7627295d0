import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { QueryTypes } from 'sequelize';
import { requireEnv, mysqlTestDatabase } from '../../core/testing/test-bus.js';
import { RedisStreamEventBus } from '../../core/event-bus/redis-stream-event-bus.js';
import { RedisCache } from '../../core/cache/redis-cache.js';
import type { BusEvents } from '../../core/events/bus-events.js';
import type { DomainEvents } from '../../core/events/domain-events.js';
import { silentLogger } from '../../core/logging/logger.js';
import { until } from '../../core/event-bus/event-bus.contract.js';
import type { Database } from '../../core/database/database.js';
import { LiveEventLog } from './live-event-log.js';
import { startCallbackConsumer, CALLBACK_GROUP } from './callback-consumer.js';
import { recordingCommitHooks, recordingFinishedHandler } from '../recordings/recording.handler.js';

const dbUrl = requireEnv('ONAIR_TEST_DATABASE_URL');
const redisUrl = requireEnv('ONAIR_TEST_REDIS_URL');
const log = silentLogger();

/** The consumer's view of the database is gone (connection pool closed) while callbacks keep coming. */
describe('database outage with the Redis bus', () => {
  it('loses nothing: events retry, dead-letter in Redis, and replay once the database is back', { skip: !dbUrl || !redisUrl ? 'needs ONAIR_TEST_DATABASE_URL and ONAIR_TEST_REDIS_URL' : false }, async () => {
    const tdb = mysqlTestDatabase(dbUrl!);
    const prefix = `onair-outage:${randomBytes(4).toString('hex')}:`;
    const bus = new RedisStreamEventBus<BusEvents>({ url: redisUrl!, prefix });
    const cache = new RedisCache({ url: redisUrl!, prefix });
    const start = (db: Database) => {
      const events = new LiveEventLog(db, { log });
      const routes = { 'recording.finished': recordingFinishedHandler() };
      return { events, consumer: startCallbackConsumer(bus, { db, cache, events, routes, commitHooks: recordingCommitHooks, log }, { maxAttempts: 3, backoffMs: 20, pollIntervalMs: 50 }) };
    };
    const first = await tdb.open();
    let second: Database | undefined;
    try {
      const down = start(first);
      await first.close(); // the outage: every query of this consumer now fails
      const sent: Array<DomainEvents['recording.finished']> = Array.from({ length: 20 }, (_, i) => ({
        eventId: `css:100:outage-${i}`, at: Date.now(), roomId: `outage-${i}`, publisherId: 'css:outage', file: { url: `http://vod/outage/${i}.flv` },
        format: 'flv', segment: 0, startedAt: 0, endedAt: Date.now(), durationMs: 1000, size: 1,
      }));
      for (const e of sent) await bus.publish('recording.finished', e, { key: e.roomId }); // the receiver only needs the bus: callbacks are still accepted
      await until(async () => (await bus.listDead({ group: CALLBACK_GROUP })).length === 20, 20_000, 'all 20 dead-lettered');
      const dead = await bus.listDead({ group: CALLBACK_GROUP });
      assert.ok(dead.every((d) => d.attempts === 3 && d.lastError.length > 0));
      await down.consumer.stop();
      await down.events.close();
      // Recovery: the database is reachable again; a new consumer, then the operator replays.
      second = await tdb.open();
      const up = start(second);
      assert.equal(await bus.replayDead('all', { group: CALLBACK_GROUP }), 20);
      const count = async (sql: string) => Number((await second!.sequelize.query<{ n: number }>(sql, { type: QueryTypes.SELECT }))[0]!.n);
      await until(async () => (await count("SELECT COUNT(*) AS n FROM live_records WHERE stream_name LIKE 'outage-%'")) === 20, 20_000, 'replayed');
      await up.consumer.stop();
      await up.events.close();
      assert.equal((await bus.listDead()).length, 0);
    } finally {
      await bus.destroy();
      await bus.close();
      await cache.close();
      await second?.close();
      await tdb.destroy();
    }
  });
});
