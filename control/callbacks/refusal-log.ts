import { Counter, type Registry } from 'prom-client';
import type { Logger } from '../../core/logging/logger.js';
import type { LiveEventLog } from './live-event-log.js';

export type RefusalSource = 'css' | 'media-http';

export interface Refusal {
  source: RefusalSource;
  status: number;
  /** A code from a fixed set (the metric label): invalid_signature, malformed_json, source_not_allowed, ... */
  code: string;
  reason: string;
  body?: unknown;
  eventType?: number | null;
}

export interface RefusalLogOptions {
  /** Refusals written to live_events (and logged) in a burst before sampling starts. */
  burst?: number;
  /** Sustained refusals written per minute once the burst is spent. */
  perMinute?: number;
  /** Characters of a refused body kept in its sample row. */
  maxBody?: number;
  now?: () => number;
}

/**
 * What the receiver keeps of a refused callback. Refusals come from whoever can reach the port, so
 * each one is counted (onair_callbacks_refused_total{source,code}, exact) but only a sample is
 * written to live_events and the log: a token bucket of `burst` rows, refilled at `perMinute`,
 * bodies cut to `maxBody` characters. A flood of forged posts then costs a counter increment each,
 * not a database row and a log line each (2,000 forged 4 KB posts once wrote 7.6 MB).
 */
export class RefusalLog {
  private readonly counter: Counter<'source' | 'code'>;
  private readonly burst: number;
  private readonly refillPerMs: number;
  private readonly maxBody: number;
  private readonly now: () => number;
  private tokens: number;
  private refilledAt: number;
  private skipped = 0;

  constructor(private readonly events: LiveEventLog, private readonly log: Logger, metrics?: Registry, options: RefusalLogOptions = {}) {
    this.counter = refusedCounter(metrics);
    this.burst = options.burst ?? 20;
    this.refillPerMs = (options.perMinute ?? 10) / 60_000;
    this.maxBody = options.maxBody ?? 512;
    this.now = options.now ?? Date.now;
    this.tokens = this.burst;
    this.refilledAt = this.now();
  }

  record(r: Refusal): void {
    this.counter.inc({ source: r.source, code: r.code });
    if (!this.take()) {
      this.skipped++;
      return;
    }
    const notSampled = this.skipped;
    this.skipped = 0;
    this.log.warn({ source: r.source, status: r.status, code: r.code, reason: r.reason, eventType: r.eventType, notSampled }, 'callback refused');
    this.events.write({
      status: 'refused', source: r.source, reason: notSampled ? `${r.reason} (+${notSampled} refusals not sampled)` : r.reason,
      eventType: r.eventType ?? null, body: this.cut(r.body),
    });
  }

  private take(): boolean {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + (now - this.refilledAt) * this.refillPerMs);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private cut(body: unknown): string | undefined {
    if (body === undefined) return undefined;
    const text = typeof body === 'string' ? body : JSON.stringify(body) ?? '';
    return text.length > this.maxBody ? `${text.slice(0, this.maxBody)}…` : text;
  }
}

/** One counter per registry (several receivers may share one in tests). */
function refusedCounter(metrics?: Registry): Counter<'source' | 'code'> {
  const name = 'onair_callbacks_refused_total';
  const existing = metrics?.getSingleMetric(name) as Counter<'source' | 'code'> | undefined;
  return existing ?? new Counter({
    name, help: 'Callbacks refused by the receiver (bad signature, source not allowed, malformed, ...)',
    labelNames: ['source', 'code'] as const, registers: metrics ? [metrics] : [],
  });
}
