import { Counter, type Registry } from 'prom-client';

/** Counters of the money paths on /metrics (one set per registry: tests run several controls in one process). */
export interface MoneyMetrics {
  /** Gift sends by result: sent, replayed (same client_order_id), insufficient (refused). */
  giftSends: Counter<'result'>;
  /** Coins spent on gifts (the sum of sent orders' amounts). */
  giftCoins: Counter;
  /** Payment webhooks by provider and outcome: paid, duplicate, failed, or the refusal's code. */
  webhooks: Counter<'provider' | 'outcome'>;
}

function counter<L extends string>(registry: Registry | undefined, name: string, help: string, labelNames: readonly L[]): Counter<L> {
  const existing = registry?.getSingleMetric(name) as Counter<L> | undefined;
  return existing ?? new Counter({ name, help, labelNames, registers: registry ? [registry] : [] });
}

export function moneyMetrics(registry?: Registry): MoneyMetrics {
  return {
    giftSends: counter(registry, 'onair_gift_sends_total', 'Gift sends by result (sent, replayed, insufficient)', ['result'] as const),
    giftCoins: counter(registry, 'onair_gift_coins_total', 'Coins spent on gifts', [] as const),
    webhooks: counter(registry, 'onair_payment_webhooks_total', 'Payment webhooks by provider and outcome (paid, duplicate, failed, or the refusal code)', ['provider', 'outcome'] as const),
  };
}
