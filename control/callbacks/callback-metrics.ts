import { Counter, Gauge, type Registry } from 'prom-client';
import type { Consumer, EventBus } from '../../core/event-bus/event-bus.port.js';
import type { Logger } from '../../core/logging/logger.js';
import { cachedRead } from '../../core/metrics/cached-read.js';

/** The counting half of the bus (any catalog). */
export type BusCounts = Pick<EventBus<never>, 'backlog' | 'countDead'>;

export interface CallbackMetrics {
  /** Counts what a consumer of the callback group reports (processed, retried, dead). */
  observe(consumer: Consumer): void;
}

/**
 * The callback pipeline on /metrics (the alerts OnairCallbackBacklog*, OnairCallbackDeadLetters and
 * the control dashboard read them):
 *   - onair_callback_backlog: events of the callback group not acknowledged yet (the bus's count;
 *     every control node reports the same shared figure: aggregate with max, not sum);
 *   - onair_callback_dead_letters{group}: dead letters now, by consumer group (callbacks, transcoder);
 *   - onair_callback_processed_total{result=ok|retry|dead}: deliveries this node's consumer handled.
 * Registered once per registry (several controls share one in tests: the first one's bus is read).
 */
export function registerCallbackMetrics(registry: Registry, bus: BusCounts, group: string, log: Logger): CallbackMetrics {
  const get = <T>(name: string) => registry.getSingleMetric(name) as T | undefined;
  const backlog = cachedRead(() => bus.backlog(group));
  const dead = cachedRead(() => bus.countDead());
  get<Gauge>('onair_callback_backlog') ?? new Gauge({
    name: 'onair_callback_backlog',
    help: 'Domain events on the bus the callback consumer group has not acknowledged yet (waiting, leased or retrying); the same figure on every control node',
    registers: [registry],
    async collect() {
      try {
        this.set(await backlog());
      } catch (err) {
        // The gauge keeps its last value; the scrape goes on.
        log.warn({ err }, 'could not read the callback backlog for /metrics');
      }
    },
  });
  get<Gauge>('onair_callback_dead_letters') ?? new Gauge({
    name: 'onair_callback_dead_letters',
    help: 'Events in the dead-letter queue now, by consumer group (callbacks, transcoder); the same figure on every control node',
    labelNames: ['group'], registers: [registry],
    async collect() {
      try {
        const counts = await dead();
        this.reset();
        // The callback group always has a series (0 when empty), so the alert's sum() is 0, not absent.
        this.set({ group }, 0);
        for (const [g, n] of Object.entries(counts)) this.set({ group: g }, n);
      } catch (err) {
        log.warn({ err }, 'could not count the dead letters for /metrics');
      }
    },
  });
  const processed = get<Counter<'result'>>('onair_callback_processed_total') ?? new Counter({
    name: 'onair_callback_processed_total',
    help: 'Deliveries of the callback consumer on this node by result: ok (handled), retry (failed, will be retried), dead (dead-lettered)',
    labelNames: ['result'] as const, registers: [registry],
  });
  for (const result of ['ok', 'retry', 'dead']) processed.inc({ result }, 0);
  return {
    observe(consumer) {
      consumer.on('processed', () => processed.inc({ result: 'ok' }));
      consumer.on('retried', () => processed.inc({ result: 'retry' }));
      consumer.on('dead', () => processed.inc({ result: 'dead' }));
    },
  };
}
