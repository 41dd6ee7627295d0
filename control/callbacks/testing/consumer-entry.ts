/**
 * The callback consumer as a process of its own, for the crash test (callback-crash.test.ts):
 *   node --import tsx control/callbacks/testing/consumer-entry.ts
 * Env: CHILD_DB_URL (sqlite:/file or mysql://), CHILD_REDIS_URL + CHILD_PREFIX (Redis Streams bus and
 * Redis locks; otherwise the database bus and in-process locks), CHILD_DELAY_MS (per event, so a
 * kill lands mid-batch). Prints "ready" once consuming; SIGTERM stops it cleanly.
 */
import { tmpdir } from 'node:os';
import { openDatabase } from '../../../core/database/database.js';
import { silentLogger } from '../../../core/logging/logger.js';
import { DbEventBus } from '../../../core/event-bus/db-event-bus.js';
import { RedisStreamEventBus } from '../../../core/event-bus/redis-stream-event-bus.js';
import type { EventBus } from '../../../core/event-bus/event-bus.port.js';
import type { BusEvents } from '../../../core/events/bus-events.js';
import { MemoryCache } from '../../../core/cache/memory-cache.js';
import { RedisCache } from '../../../core/cache/redis-cache.js';
import { LiveEventLog } from '../live-event-log.js';
import { startCallbackConsumer } from '../callback-consumer.js';
import { recordingCommitHooks, recordingFinishedHandler } from '../../recordings/recording.handler.js';

const log = silentLogger();
const db = await openDatabase({ url: process.env.CHILD_DB_URL, dataDir: tmpdir(), log });
const redisUrl = process.env.CHILD_REDIS_URL;
const prefix = process.env.CHILD_PREFIX ?? 'onair-child:';
const bus: EventBus<BusEvents> = redisUrl ? new RedisStreamEventBus<BusEvents>({ url: redisUrl, prefix }) : new DbEventBus<BusEvents>(db);
const cache = redisUrl ? new RedisCache({ url: redisUrl, prefix }) : new MemoryCache();
const events = new LiveEventLog(db, { flushMs: 20 });
const delay = Number(process.env.CHILD_DELAY_MS ?? 0);
const record = recordingFinishedHandler();
const consumer = startCallbackConsumer(bus, {
  db, cache, events, log, commitHooks: recordingCommitHooks,
  routes: { 'recording.finished': async (ctx) => { if (delay) await new Promise((r) => setTimeout(r, delay)); await record(ctx); } },
}, { pollIntervalMs: 50, visibilityTimeoutMs: Number(process.env.CHILD_VISIBILITY_MS ?? 1000), batchSize: 20, concurrency: 4 });
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void (async () => {
    await consumer.stop();
    await bus.close();
    await events.close();
    await cache.close();
    await db.close();
    process.exit(0);
  })();
});
