import { QueryTypes } from 'sequelize';
import type { Cache } from '../../core/cache/cache.port.js';
import type { Database } from '../../core/database/database.js';
import { ConflictError, DuplicateKeyError, NotFoundError, UnavailableError, ValidationError } from '../../core/errors.js';
import type { Logger } from '../../core/logging/logger.js';
import type { PaymentProvider, WebhookRequest } from '../../core/payments/payment-provider.port.js';
import { moneyTransaction } from '../wallet/money-transaction.js';
import { credit, debit, ensureWallets, lockWallets } from '../wallet/wallet-ledger.js';

/**
 * created -> paid (webhook) -> refunding -> refunded (operator refund through the provider);
 * created -> failed (webhook) -> paid, and created -> expired (unpaid past ONAIR_PAYMENT_ORDER_TTL)
 * -> paid, when the provider then reports the payment succeeded (a late or reordered webhook: the
 * money was taken).
 */
export type RechargeStatus = 'created' | 'paid' | 'failed' | 'expired' | 'refunding' | 'refunded';

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
  refundedAt: number | null;
  refundReason: string | null;
  /** The client's idempotency key (POST /wallet/recharges {client_order_id}), when it sent one. */
  clientOrderId: string | null;
  /** Where the order is paid (null until the provider opened the payment, or when it did not). */
  payUrl: string | null;
}

/**
 * What a webhook did: `paid` credited the coins now; `paid_late` credited them for an order that had
 * expired unpaid or been told failed (the provider took the money after all, so the user gets the coins; logged);
 * `duplicate` found the order already settled (a provider's retry); `failed` marked it failed.
 */
export type WebhookOutcome = 'paid' | 'paid_late' | 'duplicate' | 'failed';

interface Row {
  id: string | number; user_id: string | number; coins: string | number; amount: string | number; currency: string;
  provider: string; provider_ref: string | null; status: RechargeStatus; created_at: string | number; paid_at: string | number | null;
  refunded_at?: string | number | null; refund_reason?: string | null; client_order_id?: string | null; pay_url?: string | null;
}
const toOrder = (r: Row): RechargeOrder => ({
  id: String(r.id), userId: String(r.user_id), coins: Number(r.coins), amount: Number(r.amount), currency: r.currency,
  provider: r.provider, providerRef: r.provider_ref, status: r.status, createdAt: Number(r.created_at), paidAt: r.paid_at === null ? null : Number(r.paid_at),
  refundedAt: r.refunded_at === null || r.refunded_at === undefined ? null : Number(r.refunded_at), refundReason: r.refund_reason ?? null,
  clientOrderId: r.client_order_id ?? null, payUrl: r.pay_url ?? null,
});

export const MAX_RECHARGE_COINS = 1_000_000;
/** How long a refund holds its order's lock at most (the provider's answer included); a crashed one frees it then. */
const REFUND_LOCK_MS = 60_000;
/**
 * Unpaid (`created`) recharge orders one user may hold at once. Each order is a row and a payment
 * opened at the provider (an API call to it, and a cancel when it expires): without a bound one
 * script opened thousands a minute.
 */
export const MAX_OPEN_RECHARGES = 5;

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
    /** Where a refund in progress holds its lock (every control node shares it with ONAIR_REDIS_URL). */
    private readonly cache?: Pick<Cache, 'setIfAbsent' | 'del'>,
  ) {}

  private select<T extends object>(sql: string, replacements: unknown[]): Promise<T[]> {
    return this.db.sequelize.query<T>(sql, { replacements, type: QueryTypes.SELECT });
  }

  private provider(name?: string): PaymentProvider {
    const p = name ? this.providers.get(name) : this.providers.values().next().value;
    if (!p) throw new UnavailableError('recharging is not enabled on this server (ONAIR_PAYMENT_PROVIDER)', { code: 'payments_disabled' });
    return p;
  }

  /**
   * A new order, or, when `clientOrderId` was used by this user before, that order again
   * (`replayed`: nothing created, the provider not called): a double click or a client's retry after
   * a timeout makes one order. The same key with other coins: 409 client_order_id_reused; the same
   * key while its first request is still opening the payment: 409 recharge_in_progress.
   */
  async create(userId: string, coins: number, clientOrderId?: string): Promise<{ order: RechargeOrder; payUrl: string | null; replayed: boolean }> {
    const provider = this.provider();
    const replay = (existing: RechargeOrder) => {
      if (existing.coins !== coins) {
        throw new ConflictError('client_order_id was already used for a different recharge', { code: 'client_order_id_reused' });
      }
      if (existing.status === 'created' && existing.payUrl === null) {
        throw new ConflictError('this recharge is still being opened at the payment provider; try again in a moment', { code: 'recharge_in_progress' });
      }
      return { order: existing, payUrl: existing.payUrl, replayed: true };
    };
    if (clientOrderId !== undefined) {
      const earlier = await this.findByClientOrderId(userId, clientOrderId);
      if (earlier) return replay(earlier);
    }
    const amount = coins * this.pricing.coinPrice;
    const now = Date.now();
    await ensureWallets(this.db, [userId]);
    let created: string | { existing: string } | null;
    try {
      created = await moneyTransaction(this.db, async (tx) => {
        // One user's creates queue on their wallet row (MariaDB; SQLite runs one writer), so the count
        // and the insert are one step: fifty requests at once still open at most MAX_OPEN_RECHARGES.
        await lockWallets(tx, [userId]);
        if (clientOrderId !== undefined) {
          const [same] = await tx.select<{ id: string | number }>('SELECT id FROM recharge_orders WHERE user_id = ? AND client_order_id = ?', [userId, clientOrderId]);
          if (same) return { existing: String(same.id) };
        }
        const [open] = await tx.select<{ n: number | string }>("SELECT COUNT(*) AS n FROM recharge_orders WHERE user_id = ? AND status = 'created'", [userId]);
        if (Number(open?.n ?? 0) >= MAX_OPEN_RECHARGES) return null;
        return tx.insert(
          'INSERT INTO recharge_orders (user_id, coins, amount, currency, provider, status, created_at, client_order_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
          [userId, coins, amount, this.pricing.currency, provider.name, 'created', now, clientOrderId ?? null],
        );
      });
    } catch (err) {
      // Two requests with one key racing past the lock: the unique index refused the second insert.
      if (!(err instanceof DuplicateKeyError) || clientOrderId === undefined) throw err;
      const existing = await this.findByClientOrderId(userId, clientOrderId);
      if (!existing) throw err;
      created = { existing: existing.id };
    }
    if (created === null) {
      throw new ConflictError(`you have ${MAX_OPEN_RECHARGES} unpaid recharge orders already: pay one, or wait until they expire`, { code: 'too_many_open_recharges' });
    }
    if (typeof created === 'object') return replay((await this.find(created.existing))!);
    const orderId = String(created);
    let payment: Awaited<ReturnType<PaymentProvider['createPayment']>>;
    try {
      payment = await provider.createPayment({ merchantOrderId: orderId, amount, currency: this.pricing.currency, description: `${coins} coins` });
    } catch (err) {
      // No payment was opened: the order is failed at once, so it holds no place among the user's unpaid ones.
      await this.db.sequelize.query("UPDATE recharge_orders SET status = 'failed' WHERE id = ? AND status = 'created'", { replacements: [orderId] })
        .catch((e: unknown) => this.log.warn({ err: e, orderId }, 'could not mark a recharge order failed'));
      this.log.error({ err, orderId, provider: provider.name }, 'the payment provider did not open a payment');
      throw new UnavailableError('the payment provider is not available; try again later', { cause: err, code: 'payment_provider_unavailable' });
    }
    await this.db.sequelize.query('UPDATE recharge_orders SET provider_ref = ?, pay_url = ? WHERE id = ?', { replacements: [payment.providerRef, payment.payUrl, orderId] });
    this.log.info({ orderId, userId, coins, amount, provider: provider.name }, 'recharge order created');
    return { order: (await this.find(orderId))!, payUrl: payment.payUrl, replayed: false };
  }

  private async findByClientOrderId(userId: string, clientOrderId: string): Promise<RechargeOrder | null> {
    const [row] = await this.select<Row>('SELECT * FROM recharge_orders WHERE user_id = ? AND client_order_id = ?', [userId, clientOrderId]);
    return row ? toOrder(row) : null;
  }

  async find(id: string): Promise<RechargeOrder | null> {
    if (!/^\d{1,19}$/.test(id)) return null;
    const [row] = await this.select<Row>('SELECT * FROM recharge_orders WHERE id = ?', [id]);
    return row ? toOrder(row) : null;
  }

  /**
   * The order, if `userId` owns it (operators see any). Another user's order answers exactly as a
   * missing one (404 recharge_not_found): ids are sequential, a 403 would tell a prober which exist.
   */
  async get(user: { id: string; role: string }, id: string): Promise<RechargeOrder> {
    const order = await this.find(id);
    if (!order || (user.role !== 'operator' && order.userId !== String(user.id))) {
      throw new NotFoundError('no such recharge order', { code: 'recharge_not_found' });
    }
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
          let changed = await tx.update("UPDATE recharge_orders SET status = 'paid', paid_at = ? WHERE id = ? AND status = 'created'", [now, order.id]);
          outcome = changed === 1 ? 'paid' : 'duplicate';
          if (changed === 0) {
            // Expired unpaid, or told failed before (a declined attempt, or the events arrived out of
            // order), yet the provider took the money: the user paid, so the coins are theirs.
            changed = await tx.update("UPDATE recharge_orders SET status = 'paid', paid_at = ? WHERE id = ? AND status IN ('expired', 'failed')", [now, order.id]);
            if (changed === 1) outcome = 'paid_late';
          }
          if (changed === 1) await credit(tx, order.userId, order.coins, 'recharge', { rechargeId: order.id }, now);
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
      if (!(err instanceof DuplicateKeyError)) throw err;
      result = 'replayed';
    }
    if (result === 'replayed') {
      this.log.warn({ provider: provider.name, eventId: event.eventId, orderId: order.id }, 'webhook delivery replayed: refused');
      throw new ConflictError('this webhook delivery was already received (a replay); nothing changed', { code: 'webhook_replayed' });
    }
    if (result.outcome === 'paid_late') this.log.warn({ provider: provider.name, eventId: event.eventId, orderId: order.id, was: order.status }, 'payment succeeded for an expired or failed recharge order: coins credited');
    else this.log.info({ provider: provider.name, eventId: event.eventId, orderId: order.id, outcome: result.outcome }, 'payment webhook handled');
    return { outcome: result.outcome, order: (await this.find(order.id))! };
  }

  /**
   * An operator refunds a paid recharge: the coins leave the user's wallet (a `refund` ledger row,
   * in a transaction whose conditional debit refuses to go below zero: 409 refund_uncovered when
   * the user already spent them, nothing written), the order becomes `refunding`, then the
   * provider gives the money back and the order becomes `refunded`. If the provider refuses, the
   * coins are credited back (another `refund` row) and the order is `paid` again (503
   * refund_failed). An order left `refunding` (a crash between the two) is finished by refunding
   * it again: the debit is not repeated and provider refunds are idempotent.
   */
  async refund(operatorId: string, id: string, reason: string): Promise<RechargeOrder> {
    const order = await this.find(id);
    if (!order) throw new NotFoundError('no such recharge order', { code: 'recharge_not_found' });
    const provider = this.providers.get(order.provider);
    if (!provider) throw new UnavailableError(`the order's payment provider (${order.provider}) is not enabled`, { code: 'payments_disabled' });
    // One refund of an order at a time, on every node: two at once both reached the provider, and
    // one that failed there while the other succeeded gave the coins back after the money went
    // back (coins and money both); on MariaDB they also deadlocked into 500s. A crash leaves the
    // lock to expire: the refund can then be finished by calling it again.
    const lock = `lock:recharge-refund:${order.id}`;
    if (this.cache && !(await this.cache.setIfAbsent(lock, operatorId, REFUND_LOCK_MS))) {
      throw new ConflictError('this recharge order is being refunded right now', { code: 'refund_in_progress' });
    }
    try {
      return await this.refundLocked(operatorId, order, provider, reason);
    } finally {
      await this.cache?.del(lock).catch((err: unknown) => this.log.warn({ err, orderId: order.id }, 'releasing the refund lock failed (it expires)'));
    }
  }

  private async refundLocked(operatorId: string, order: RechargeOrder, provider: PaymentProvider, reason: string): Promise<RechargeOrder> {
    const now = Date.now();
    const ref = { rechargeId: order.id, actorId: operatorId, reason: reason.slice(0, 255) };
    const step = await moneyTransaction(this.db, async (tx) => {
      const [row] = await tx.select<Row>(`SELECT * FROM recharge_orders WHERE id = ?${tx.dialect === 'mysql' ? ' FOR UPDATE' : ''}`, [order.id]);
      const status = row!.status;
      if (status === 'refunding') return 'resume' as const;
      if (status !== 'paid') return status;
      if (!(await debit(tx, order.userId, order.coins, 'refund', ref, now))) return 'uncovered' as const;
      await tx.update("UPDATE recharge_orders SET status = 'refunding', refund_reason = ? WHERE id = ? AND status = 'paid'", [ref.reason, order.id]);
      return 'debited' as const;
    });
    if (step === 'uncovered') {
      throw new ConflictError(`the user's balance no longer covers the ${order.coins} coins of this recharge (spent already); nothing was refunded`, { code: 'refund_uncovered' });
    }
    if (step !== 'debited' && step !== 'resume') {
      throw new ConflictError(`a ${step} recharge order cannot be refunded (only paid ones)`, { code: 'recharge_not_refundable' });
    }
    try {
      await provider.refundPayment({ providerRef: order.providerRef ?? '', amount: order.amount, currency: order.currency, reason: ref.reason });
    } catch (err) {
      await moneyTransaction(this.db, async (tx) => {
        const back = await tx.update("UPDATE recharge_orders SET status = 'paid', refund_reason = NULL WHERE id = ? AND status = 'refunding'", [order.id]);
        if (back === 1) await credit(tx, order.userId, order.coins, 'refund', { ...ref, reason: 'refund failed at the payment provider: coins returned' }, Date.now());
      });
      this.log.error({ err, orderId: order.id, provider: provider.name }, 'the payment provider refused a refund: coins returned, order paid again');
      throw new UnavailableError('the payment provider did not refund; the coins were returned and the order is paid again', { cause: err, code: 'refund_failed' });
    }
    await moneyTransaction(this.db, (tx) => tx.update("UPDATE recharge_orders SET status = 'refunded', refunded_at = ? WHERE id = ? AND status = 'refunding'", [Date.now(), order.id]));
    this.log.info({ operatorId, orderId: order.id, coins: order.coins, amount: order.amount, reason: ref.reason }, 'recharge refunded');
    return (await this.find(order.id))!;
  }

  /**
   * Unpaid orders older than `ttlMs` become `expired`, and their payments are closed at the
   * provider (best effort: a late webhook is still handled, outcome paid_late). Returns how many
   * expired; at most `limit` per call.
   */
  async expireUnpaid(ttlMs: number, now = Date.now(), limit = 500): Promise<number> {
    const rows = await this.select<Row>("SELECT * FROM recharge_orders WHERE status = 'created' AND created_at < ? ORDER BY created_at LIMIT ?", [now - ttlMs, limit]);
    let expired = 0;
    for (const row of rows) {
      const [, changed] = await this.db.sequelize.query("UPDATE recharge_orders SET status = 'expired' WHERE id = ? AND status = 'created'", { replacements: [row.id], type: QueryTypes.UPDATE });
      if (Number(changed) !== 1) continue;
      expired++;
      const provider = this.providers.get(row.provider);
      if (provider && row.provider_ref) {
        await provider.cancelPayment(row.provider_ref).catch((err: unknown) => this.log.warn({ err, orderId: String(row.id) }, 'closing an expired payment at the provider failed'));
      }
    }
    if (expired > 0) this.log.info({ expired, ttlMs }, 'unpaid recharge orders expired');
    return expired;
  }

  /** Deletes payment_webhooks rows received before now - retentionMs (the replay guard outlives the signature window: see validateConfig). */
  async pruneWebhooks(retentionMs: number, now = Date.now(), batch = 5000): Promise<number> {
    if (retentionMs <= 0) return 0;
    let deleted = 0;
    for (;;) {
      const rows = await this.select<{ id: number | string }>('SELECT id FROM payment_webhooks WHERE received_at < ? ORDER BY id LIMIT ?', [now - retentionMs, batch]);
      if (rows.length === 0) break;
      await this.db.sequelize.query('DELETE FROM payment_webhooks WHERE id IN (?)', { replacements: [rows.map((r) => r.id)] });
      deleted += rows.length;
      if (rows.length < batch) break;
    }
    if (deleted > 0) this.log.info({ deleted, retentionMs }, 'payment_webhooks pruned');
    return deleted;
  }
}
