import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../logging/logger.js';

/** How long a Redis command may take before it fails (ONAIR_REDIS_TIMEOUT): Redis answers in well under a millisecond. */
export const DEFAULT_REDIS_COMMAND_TIMEOUT_MS = 500;

export interface RedisClientOptions {
  url: string;
  /** Which part of onair this connection serves, for the log ('cache', 'event-bus', 'rate-limits'). */
  name: string;
  log?: Logger;
  commandTimeoutMs?: number;
  keyPrefix?: string;
  enableAutoPipelining?: boolean;
}

/**
 * An ioredis client that fails fast while Redis is away, so a request that needs it is answered
 * 503 at once instead of hanging (issue 9, point 4):
 * - every command has a deadline (`commandTimeout`): a Redis that hangs with its connections open
 *   (stopped, partitioned) costs a caller at most that long;
 * - commands are queued only until the first connection is ready (start-up); after that, while
 *   the connection is down, a command fails at once (`enableOfflineQueue` turned off on 'ready'),
 *   so an outage never builds an unbounded queue of commands waiting for Redis;
 * - it reconnects forever, at most a second apart, so service resumes by itself when Redis returns.
 * The outage is logged once at warn (not at every reconnect attempt) and its end at info.
 */
export function createRedisClient(options: RedisClientOptions): Redis {
  const log = options.log?.child({ mod: 'redis', conn: options.name });
  const settings: RedisOptions = {
    keyPrefix: options.keyPrefix,
    enableAutoPipelining: options.enableAutoPipelining ?? false,
    commandTimeout: options.commandTimeoutMs ?? DEFAULT_REDIS_COMMAND_TIMEOUT_MS,
    enableOfflineQueue: true,
    maxRetriesPerRequest: 1,
    connectTimeout: 5_000,
    retryStrategy: (attempt) => Math.min(attempt * 100, 1_000),
  };
  const client = new Redis(options.url, settings);
  let down = false;
  // Without an 'error' listener ioredis' errors would crash the process; callers see each failure as a rejected command.
  client.on('error', (err: Error) => {
    if (down) return log?.debug({ err: err.message }, 'redis still unreachable');
    down = true;
    log?.warn({ err: err.message }, 'redis unreachable: requests that need it answer 503 until it is back');
  });
  client.on('ready', () => {
    client.options.enableOfflineQueue = false;
    if (down) log?.info('redis reachable again');
    down = false;
  });
  return client;
}

/** Resolves when the client is connected, or after `timeoutMs` (then the caller goes on and fails fast until Redis is up). */
export async function redisReady(client: Redis, timeoutMs = 5_000): Promise<boolean> {
  if (client.status === 'ready') return true;
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => done(false), timeoutMs);
    const onReady = () => done(true);
    function done(ok: boolean) {
      clearTimeout(timer);
      client.off('ready', onReady);
      resolve(ok);
    }
    client.once('ready', onReady);
  });
}
