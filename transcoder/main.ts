/**
 * The standalone transcoder (`npm run start:transcoder`): consumes recording.finished from the bus
 * (consumer group `transcoder`; run as many as you like, each recording is leased to one), writes
 * MP4 replays to object storage and their rows to the database. Serves /healthz and /metrics on
 * config.http.port (ONAIR_HTTP_PORT). Needs the database and bus control uses (ONAIR_DATABASE_URL,
 * ONAIR_REDIS_URL), the object store (ONAIR_S3_URL) and the recordings folder media writes
 * (ONAIR_RECORDINGS_DIR, a shared volume).
 */
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { loadConfig } from '../core/config/load.js';
import type { OnairConfig } from '../core/config/schema.js';
import { openDatabase } from '../core/database/database.js';
import { createEventBus, RedisStreamEventBus } from '../core/event-bus/index.js';
import type { BusEvents } from '../core/events/bus-events.js';
import { handleMetricsOnMainPort, startMetricsListener } from '../core/http/metrics-endpoint.js';
import { createLogger, type Logger } from '../core/logging/logger.js';
import { createObjectStore } from '../core/object-store/index.js';
import { startTranscoder } from './transcoder.js';

export interface TranscoderService {
  httpPort: number;
  close(): Promise<void>;
}

export async function startTranscoderService(config: OnairConfig, log: Logger): Promise<TranscoderService> {
  const db = await openDatabase({ url: config.database.url, dataDir: config.dataDir, log });
  await db.migrate();
  const bus = createEventBus<BusEvents>({ db, redisUrl: config.redis.url, prefix: config.redis.prefix, log, commandTimeoutMs: config.redis.commandTimeout });
  if (bus instanceof RedisStreamEventBus && !(await bus.ready())) log.warn('redis is not reachable yet; the transcoder waits for it');
  const objects = await createObjectStore(config, log.child({ mod: 'object-store' }));
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics });
  const transcoder = await startTranscoder({ config, log, db, bus, objects, metrics });
  const http = createServer((req, res) => {
    if ((req.url ?? '').split('?', 1)[0] === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      return;
    }
    if (handleMetricsOnMainPort(req, res, metrics, config.metrics, log)) return;
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"code":"not_found","message":"not found"}}');
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(config.http.port, config.host, () => resolve());
  });
  const metricsListener = await startMetricsListener(metrics, config.metrics, config.host, log);
  const httpPort = (http.address() as { port: number }).port;
  log.info({ http: httpPort, objectStore: objects.kind, bus: bus.kind }, 'transcoder listening');
  let closing: Promise<void> | undefined;
  return {
    httpPort,
    close() {
      closing ??= (async () => {
        http.close();
        await metricsListener?.close();
        await transcoder.close();
        await bus.close();
        await objects.close();
        await db.close();
      })();
      return closing;
    },
  };
}

async function run(): Promise<void> {
  const config = loadConfig();
  const log = createLogger({ level: config.logLevel });
  const service = await startTranscoderService(config, log);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    log.info({ signal }, 'shutting down (running jobs finish; a cut one is resumed by another transcoder after its lease)');
    setTimeout(() => process.exit(1), config.shutdownTimeout + 5_000).unref();
    service.close().then(() => process.exit(0), (err: unknown) => {
      log.error({ err }, 'shutdown failed');
      process.exit(1);
    });
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  run().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
