import { join } from 'node:path';
import type { Registry } from 'prom-client';
import type { OnairConfig } from '../core/config/schema.js';
import type { Database } from '../core/database/database.js';
import type { EventBus } from '../core/event-bus/event-bus.port.js';
import type { BusEvents } from '../core/events/bus-events.js';
import type { Logger } from '../core/logging/logger.js';
import type { ObjectStore } from '../core/object-store/object-store.port.js';
import { ReplayStore } from '../core/replays/replay.store.js';
import { registerQueueDepth, registerTranscoderMetrics } from './metrics.js';
import { TRANSCODER_GROUP, TranscoderWorker } from './worker.js';

export interface Transcoder {
  worker: TranscoderWorker;
  /** Stops taking jobs and waits for the running ones. Idempotent. */
  close(): Promise<void>;
}

/**
 * Builds and starts the transcoder on ports it is given: the standalone role (transcoder/main.ts)
 * and the all-in-one process (onair.ts, unless ONAIR_TRANSCODER=off) share this.
 */
export async function startTranscoder(deps: {
  config: OnairConfig;
  log: Logger;
  db: Database;
  bus: EventBus<BusEvents>;
  objects: ObjectStore;
  metrics?: Registry;
  consumerName?: string;
}): Promise<Transcoder> {
  const { config } = deps;
  const t = config.transcoder;
  const worker = new TranscoderWorker({
    bus: deps.bus,
    replays: new ReplayStore(deps.db),
    objects: deps.objects,
    log: deps.log.child({ mod: 'transcoder' }),
    ...(deps.metrics ? { metrics: registerTranscoderMetrics(deps.metrics) } : {}),
    recordingsDir: config.media.recordingsDir ?? join(config.dataDir, 'recordings'),
    workDir: join(config.dataDir, 'transcoder-work'),
    keepSource: t.keepSource,
    keepSegments: t.keepSegments,
    uploadDuringRemux: t.uploadDuringRemux,
    concurrency: t.concurrency,
    leaseMs: t.lease,
    maxAttempts: t.maxAttempts,
    backoffMs: t.retryBackoff,
    ffmpegPath: config.media.ffmpegPath,
    ffprobePath: t.ffprobePath,
    ffmpegTimeoutMs: t.ffmpegTimeout,
    ...(deps.consumerName ? { consumerName: deps.consumerName } : {}),
  });
  if (deps.metrics) registerQueueDepth(deps.metrics, deps.bus, TRANSCODER_GROUP, deps.log);
  await worker.start();
  return { worker, close: () => worker.stop() };
}
