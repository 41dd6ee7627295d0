import { QueryTypes, UniqueConstraintError } from 'sequelize';
import type { Database } from '../../core/database/database.js';
import { ConflictError, ForbiddenError, NotFoundError, UnavailableError, ValidationError } from '../../core/errors.js';
import type { Logger } from '../../core/logging/logger.js';
import type { PaymentProvider, WebhookRequest } from '../../core/payments/payment-provider.port.js';
import { moneyTransaction } from '../wallet/money-transaction.js';
import { credit } from '../wallet/wallet-ledger.js';

export type RechargeStatus = 'created' | 'paid' | 'failed';

export interface RechargeOrder {
  id: string;
  userId: string;
  coins: number;
  amount: number;
  currency: string;
  provider: string;
  providerRef: string | null;
  status: RechargeStatus;
  createdAt: number;
  paidAt: number | null;
}

/** What a webhook did: `paid` credited the coins now; `duplicate` found the order already settled (a provider's retry); `failed` marked it failed. */
export type WebhookOutcome = 'paid' | 'duplicate' | 'failed';

interface Row {
  id: string | number; user_id: string | number; coins: string | number; amount: string | number; currency: string;
  provider: string; provider_ref: string | null; status: RechargeStatus; created_at: string | number; paid_at: string | number | null;
}
const toOrder = (r: Row): RechargeOrder => ({
  id: String(r.id), userId: String(r.user_id), coins: Number(r.coins), amount: Number(r.amount), currency: r.currency,
  provider: r.provider, providerRef: r.provider_ref, status: r.status, createdAt: Number(r.created_at), paidAt: r.paid_at === null ? null : Number(r.paid_at),
});

export const MAX_RECHARGE_COINS = 1_000_000;

/**
 * Buying coins: a recharge order is created here and a payment opened at the provider; the
 * provider's signed webhook moves the order created -> paid exactly once (a conditional UPDATE in
 * the same transaction as the credit and its ledger row). Every accepted delivery is recorded by
 * its signature, so the same signed delivery twice is refused as a replay (409 webhook_replayed),
 * while a provider's own retry (the same event, signed anew) is acknowledged and changes nothing.
 */
export class RechargeService {
  constructor(
    private readonly db: Database,
    private readonly providers: Map<string, PaymentProvider>,
    private readonly pricing: { coinPrice: number; currency: string },
    private readonly log: Logger,
  ) {}

  private select<T extends object>(sql: string, replacements: unknown[]): Promise<T[]> {
    return this.db.sequelize.query<T>(sql, { replacements, type: QueryTypes.SELECT });
  }

  private provider(name?: string): PaymentProvider {
    const p = name ? this.providers.get(name) : this.providers.values().next().value;
    if (!p) throw new UnavailableError('recharging is not enabled on this server (ONAIR_PAYMENT_PROVIDER)', { code: 'payments_disabled' });
    return p;
  }

  async create(userId: string, coins: number): Promise<{ order: RechargeOrder; payUrl: string }> {
    const provider = this.provider();
    const amount = coins * this.pricing.coinPrice;
    const now = Date.now();
    const [id] = await this.db.sequelize.query(
      'INSERT INTO recharge_orders (user_id, coins, amount, currency, provider, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      { replacements: [userId, coins, amount, this.pricing.currency, provider.name, 'created', now], type: QueryTypes.INSERT },
    );
    const orderId = String(id);
    const payment = await provider.createPayment({ merchantOrderId: orderId, amount, currency: this.pricing.currency, description: `${coins} coins` });
    await this.db.sequelize.query('UPDATE recharge_orders SET provider_ref = ? WHERE id = ?', { replacements: [payment.providerRef, orderId] });
    this.log.info({ orderId, userId, coins, amount, provider: provider.name }, 'recharge order created');
    return { order: (await this.find(orderId))!, payUrl: payment.payUrl };
  }

  async find(id: string): Promise<RechargeOrder | null> {
    if (!/^\d{1,19}$/.test(id)) return null;
    const [row] = await this.select<Row>('SELECT * FROM recharge_orders WHERE id = ?', [id]);
    return row ? toOrder(row) : null;
  }

  /** The order, if `userId` owns it (operators see any). */
  async get(user: { id: string; role: string }, id: string): Promise<RechargeOrder> {
    const order = await this.find(id);
    if (!order) throw new NotFoundError('no such recharge order', { code: 'recharge_not_found' });
    if (user.role !== 'operator' && order.userId !== String(user.id)) throw new ForbiddenError('not your recharge order');
    return order;
  }

  async listOf(userId: string, page: { before?: string; limit: number }): Promise<RechargeOrder[]> {
    const rows = await this.select<Row>(
      `SELECT * FROM recharge_orders WHERE user_id = ?${page.before ? ' AND id < ?' : ''} ORDER BY id DESC LIMIT ?`,
      page.before ? [userId, page.before, page.limit] : [userId, page.limit],
    );
    return rows.map(toOrder);
  }

  /**
   * A webhook from `providerName`. Throws WebhookSignatureError (401), WebhookRefusedError (400:
   * expired, malformed), ConflictError webhook_replayed (409), ValidationError webhook_order_mismatch
   * (400: a genuine event about an order it does not match; logged). Nothing is written for any of them.
   */
  async handleWebhook(providerName: string, request: WebhookRequest): Promise<{ outcome: WebhookOutcome; order: RechargeOrder }> {
    const provider = this.providers.get(providerName);
    if (!provider) throw new NotFoundError('no such payment provider', { code: 'provider_not_found' });
    const event = provider.verifyWebhook(request);
    const order = await this.find(event.merchantOrderId);
    if (!order || order.provider !== provider.name || order.providerRef !== event.providerRef || order.amount !== event.amount || order.currency !== event.currency) {
      this.log.error({ provider: provider.name, eventId: event.eventId, merchantOrderId: event.merchantOrderId, providerRef: event.providerRef }, 'genuine webhook does not match its recharge order');
      throw new ValidationError('the webhook does not match a recharge order (id, reference, amount or currency)', { code: 'webhook_order_mismatch' });
    }
    const now = Date.now();
    let result: { outcome: WebhookOutcome } | 'replayed';
    try {
      result = await moneyTransaction(this.db, async (tx) => {
        // Checked before the insert (SQLite's transactions avoid expected rollbacks); the unique
        // index still catches two copies racing on MariaDB (one transaction then rolls back whole).
        const seen = await tx.select('SELECT id FROM payment_webhooks WHERE provider = ? AND delivery_sig = ?', [provider.name, event.deliveryId]);
        if (seen.length > 0) return 'replayed' as const;
        let outcome: WebhookOutcome;
        if (event.type === 'payment.succeeded') {
          const changed = await tx.update("UPDATE recharge_orders SET status = 'paid', paid_at = ? WHERE id = ? AND status = 'created'", [now, order.id]);
          if (changed === 1) await credit(tx, order.userId, order.coins, 'recharge', { rechargeId: order.id }, now);
          outcome = changed === 1 ? 'paid' : 'duplicate';
        } else {
          const changed = await tx.update("UPDATE recharge_orders SET status = 'failed' WHERE id = ? AND status = 'created'", [order.id]);
          outcome = changed === 1 ? 'failed' : 'duplicate';
        }
        await tx.insert(
          'INSERT INTO payment_webhooks (provider, delivery_sig, event_id, recharge_id, outcome, received_at) VALUES (?, ?, ?, ?, ?, ?)',
          [provider.name, event.deliveryId, event.eventId, order.id, outcome, now],
        );
        return { outcome };
      });
    } catch (err) {
      if (!(err instanceof UniqueConstraintError)) throw err;
      result = 'replayed';
    }
    if (result === 'replayed') {
      this.log.warn({ provider: provider.name, eventId: event.eventId, orderId: order.id }, 'webhook delivery replayed: refused');
      throw new ConflictError('this webhook delivery was already received (a replay); nothing changed', { code: 'webhook_replayed' });
    }
    this.log.info({ provider: provider.name, eventId: event.eventId, orderId: order.id, outcome: result.outcome }, 'payment webhook handled');
    return { outcome: result.outcome, order: (await this.find(order.id))! };
  }
}
