import type { Cache } from '../../core/cache/cache.port.js';
import type { Logger } from '../../core/logging/logger.js';
import type { RechargeService } from './recharge.service.js';

/**
 * The recharge orders' timers: unpaid orders expire (every min(ttl/2, 1 min)), and payment_webhooks
 * rows older than the retention are pruned (hourly; one control node at a time through
 * lock:payment-webhooks-prune, though deleting twice would be harmless). Expiring on several nodes
 * at once is safe: each order changes by a conditional UPDATE.
 */
export class PaymentHousekeeping {
  private timers: NodeJS.Timeout[] = [];
  private immediates: NodeJS.Immediate[] = [];
  private running = new Set<Promise<unknown>>();
  private stopped = false;

  constructor(private readonly deps: {
    recharges: Pick<RechargeService, 'expireUnpaid' | 'pruneWebhooks'>;
    cache: Cache;
    orderTtlMs: number;
    webhookRetentionMs: number;
    log: Logger;
    pruneIntervalMs?: number;
  }) {}

  start(): void {
    if (this.timers.length) return;
    this.stopped = false;
    const { orderTtlMs, webhookRetentionMs } = this.deps;
    const every = (ms: number, fn: () => Promise<unknown>, what: string) => {
      let busy = false;
      const tick = () => {
        if (busy || this.stopped) return;
        busy = true;
        const p = fn().catch((err: unknown) => this.deps.log.error({ err }, `${what} failed`)).finally(() => { busy = false; this.running.delete(p); });
        this.running.add(p);
      };
      const t = setInterval(tick, ms);
      t.unref();
      this.timers.push(t);
      this.immediates.push(setImmediate(tick));
    };
    every(Math.max(1_000, Math.min(60_000, Math.floor(orderTtlMs / 2))), () => this.deps.recharges.expireUnpaid(orderTtlMs), 'expiring unpaid recharge orders');
    if (webhookRetentionMs > 0) {
      const interval = this.deps.pruneIntervalMs ?? 3_600_000;
      every(interval, async () => {
        if (!(await this.deps.cache.setIfAbsent('lock:payment-webhooks-prune', String(process.pid), Math.max(60_000, Math.floor(interval / 2))))) return 0;
        return this.deps.recharges.pruneWebhooks(webhookRetentionMs);
      }, 'pruning payment_webhooks');
    }
  }

  async stop(): Promise<void> {
    // A tick not yet started never starts (a stop right after start must not query a closing database).
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    for (const i of this.immediates) clearImmediate(i);
    this.timers = [];
    this.immediates = [];
    await Promise.all([...this.running]);
  }
}
