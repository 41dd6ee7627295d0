import type { Cache } from '../../core/cache/cache.port.js';
import type { Database } from '../../core/database/database.js';
import { ConflictError, NotFoundError } from '../../core/errors.js';
import type { Logger } from '../../core/logging/logger.js';
import { moneyTransaction } from '../wallet/money-transaction.js';
import { credit, debit, lockWallets } from '../wallet/wallet-ledger.js';
import { giftKeys } from './gift-keys.js';
import { toOrder, type GiftOrder, type OrderRow } from './gift-orders.js';

/**
 * An operator refunds a gift send (a disputed or mistaken one): the anchor gives back their income,
 * the sender gets the whole amount back (the platform's share included), both as `refund` ledger
 * rows, and the order becomes `refunded`, once. If the anchor has already spent the income the
 * refund is refused (409 refund_uncovered): no balance goes below zero; an operator can adjust first.
 * The order leaves the show's ranking and, when the show was settled already, its settlement.
 */
export class GiftRefundService {
  constructor(private readonly deps: {
    db: Database; cache: Cache; log: Logger;
    /**
     * Settles the order's show again (SettlementService.settle: a no-op while it is live): a refund
     * after the show was settled takes the order out of the summary the anchor reads too.
     */
    resettle?: (sessionId: string) => Promise<unknown>;
  }) {}

  async refund(operatorId: string, orderId: string, reason: string): Promise<GiftOrder> {
    if (!/^\d{1,19}$/.test(orderId)) throw new NotFoundError('no such gift order', { code: 'order_not_found' });
    const now = Date.now();
    const outcome = await moneyTransaction(this.deps.db, async (tx) => {
      // FOR UPDATE on InnoDB: two refunds of one order queue here; SQLite runs one transaction at a time.
      const [row] = await tx.select<OrderRow>(`SELECT * FROM orders WHERE id = ?${tx.dialect === 'mysql' ? ' FOR UPDATE' : ''}`, [orderId]);
      if (!row) return 'missing' as const;
      const order = toOrder(row);
      if (order.status !== 'paid') return 'refunded' as const;
      await lockWallets(tx, [order.userId, order.anchorId]);
      const ref = { orderId, actorId: operatorId, reason };
      // The anchor's debit is the first write: refused, it leaves nothing written.
      if (order.anchorIncome > 0 && !(await debit(tx, order.anchorId, order.anchorIncome, 'refund', ref, now))) return 'uncovered' as const;
      await tx.update("UPDATE orders SET status = 'refunded' WHERE id = ?", [orderId]);
      await credit(tx, order.userId, order.amount, 'refund', ref, now);
      return { ...order, status: 'refunded' as const };
    });
    if (outcome === 'missing') throw new NotFoundError('no such gift order', { code: 'order_not_found' });
    if (outcome === 'refunded') throw new ConflictError('this gift order was already refunded', { code: 'order_already_refunded' });
    if (outcome === 'uncovered') throw new ConflictError("the anchor's balance no longer covers their income from this order", { code: 'refund_uncovered' });
    if (outcome.sessionId) {
      await this.deps.cache.zIncrBy(giftKeys.sessionRanking(outcome.sessionId), -outcome.amount, outcome.userId)
        .catch((err: unknown) => this.deps.log.warn({ err, orderId }, 'refund not taken off the cached ranking'));
    }
    if (outcome.sessionId && this.deps.resettle) {
      await this.deps.resettle(outcome.sessionId)
        .catch((err: unknown) => this.deps.log.error({ err, orderId, sessionId: outcome.sessionId }, "refund not taken out of the show's settlement"));
    }
    this.deps.log.info({ operatorId, orderId, amount: outcome.amount, reason }, 'gift order refunded');
    return outcome;
  }
}
