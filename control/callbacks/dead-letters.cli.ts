import { loadConfig } from '../../core/config/load.js';
import { openDatabase } from '../../core/database/database.js';
import { createLogger } from '../../core/logging/logger.js';
import { createEventBus } from '../../core/event-bus/index.js';
import type { BusEvents } from '../../core/events/bus-events.js';
import { CALLBACK_GROUP } from './callback-consumer.js';

export const DEAD_LETTER_USAGE = 'usage: npm run admin -- dead-letters list [limit] | dead-letters replay <id|all>';

/**
 * `npm run admin -- dead-letters list [limit]` prints the callback dead letters (id, event id,
 * attempts, when, last error, event identity); `dead-letters replay <id|all>` re-delivers them to
 * the callback consumer. Uses the same bus as the server (ONAIR_REDIS_URL or the database).
 */
export async function runDeadLetterCommand(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [action, arg] = args;
  if (action !== 'list' && !(action === 'replay' && arg && /^(all|\d+)$/.test(arg))) {
    console.error(DEAD_LETTER_USAGE);
    return 2;
  }
  const config = loadConfig(env);
  const log = createLogger({ level: 'warn' });
  const db = await openDatabase({ url: config.database.url, dataDir: config.dataDir, log });
  await db.migrate();
  const bus = createEventBus<BusEvents>({ db, redisUrl: config.redis.url, log });
  try {
    if (action === 'list') {
      const dead = await bus.listDead({ group: CALLBACK_GROUP, limit: arg ? Number(arg) || 100 : 100 });
      if (dead.length === 0) console.log('no dead letters');
      for (const d of dead) {
        const eventId = (d.payload as { eventId?: string }).eventId ?? '-';
        console.log(`${d.id}\tevent ${d.eventId}\t${d.name}\tattempts ${d.attempts}\t${new Date(d.deadAt).toISOString()}\t${eventId}\t${d.lastError}`);
      }
      return 0;
    }
    const replayed = await bus.replayDead(arg!, { group: CALLBACK_GROUP });
    console.log(`replayed ${replayed}`);
    return arg !== 'all' && replayed === 0 ? 1 : 0;
  } finally {
    await bus.close();
    await db.close();
  }
}
