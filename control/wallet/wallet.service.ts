import { QueryTypes } from 'sequelize';
import type { Database } from '../../core/database/database.js';
import { ConflictError, ForbiddenError, NotFoundError } from '../../core/errors.js';
import type { Logger } from '../../core/logging/logger.js';
import { credit, debit, type LedgerKind } from './wallet-ledger.js';
import { moneyTransaction } from './money-transaction.js';

export interface LedgerEntry {
  id: string;
  kind: LedgerKind;
  amount: number;
  balanceAfter: number;
  orderId: string | null;
  rechargeId: string | null;
  reason: string | null;
  createdAt: number;
}

export interface Reconciliation {
  userId: string;
  balance: number;
  ledgerSum: number;
  entries: number;
  consistent: boolean;
}

interface LedgerRow {
  id: string | number; kind: LedgerKind; amount: string | number; balance_after: string | number;
  order_id: string | number | null; recharge_id: string | number | null; reason: string | null; created_at: string | number;
}

const str = (v: string | number | null) => (v === null ? null : String(v));

/** Balances, the ledger and operator adjustments. Gift sends and recharges write through wallet-ledger.ts in their own transactions. */
export class WalletService {
  constructor(
    private readonly db: Database,
    private readonly userExists: (id: string) => Promise<boolean>,
    private readonly log: Logger,
  ) {}

  private select<T extends object>(sql: string, replacements: unknown[]): Promise<T[]> {
    return this.db.sequelize.query<T>(sql, { replacements, type: QueryTypes.SELECT });
  }

  async balance(userId: string): Promise<number> {
    const rows = await this.select<{ balance: string | number }>('SELECT balance FROM wallets WHERE user_id = ?', [userId]);
    return Number(rows[0]?.balance ?? 0);
  }

  /** Newest first; `before` is the id of the last entry of the previous page. */
  async ledger(userId: string, page: { before?: string; limit: number }): Promise<LedgerEntry[]> {
    const rows = await this.select<LedgerRow>(
      `SELECT id, kind, amount, balance_after, order_id, recharge_id, reason, created_at FROM wallet_ledger
       WHERE user_id = ?${page.before ? ' AND id < ?' : ''} ORDER BY id DESC LIMIT ?`,
      page.before ? [userId, page.before, page.limit] : [userId, page.limit],
    );
    return rows.map((r) => ({
      id: String(r.id), kind: r.kind, amount: Number(r.amount), balanceAfter: Number(r.balance_after),
      orderId: str(r.order_id), rechargeId: str(r.recharge_id), reason: r.reason, createdAt: Number(r.created_at),
    }));
  }

  /** The balance checked against the ledger: they must always agree. 404 user_not_found for an unknown user. */
  async reconcile(userId: string): Promise<Reconciliation> {
    if (!(await this.userExists(userId))) throw new NotFoundError('no such user', { code: 'user_not_found' });
    const [sum] = await this.select<{ total: string | number | null; n: string | number }>(
      'SELECT SUM(amount) AS total, COUNT(*) AS n FROM wallet_ledger WHERE user_id = ?', [userId],
    );
    const balance = await this.balance(userId);
    const ledgerSum = Number(sum?.total ?? 0);
    const result = { userId, balance, ledgerSum, entries: Number(sum?.n ?? 0), consistent: balance === ledgerSum };
    if (!result.consistent) this.log.error(result, 'wallet balance differs from its ledger');
    return result;
  }

  /**
   * Every wallet whose balance differs from the sum of its ledger (an empty list is the healthy
   * answer), and how many wallets were checked. One pass over both tables; for operators and monitoring.
   */
  async audit(): Promise<{ checked: number; mismatches: Reconciliation[] }> {
    const rows = await this.select<{ user_id: string | number; balance: string | number; total: string | number | null; n: string | number }>(
      `SELECT w.user_id, w.balance, SUM(l.amount) AS total, COUNT(l.id) AS n FROM wallets w
       LEFT JOIN wallet_ledger l ON l.user_id = w.user_id GROUP BY w.user_id, w.balance`, [],
    );
    const mismatches = rows
      .map((r) => ({ userId: String(r.user_id), balance: Number(r.balance), ledgerSum: Number(r.total ?? 0), entries: Number(r.n), consistent: true }))
      .filter((r) => r.balance !== r.ledgerSum)
      .map((r) => ({ ...r, consistent: false }));
    if (mismatches.length) this.log.error({ mismatches: mismatches.slice(0, 20) }, 'wallet balances differ from their ledgers');
    return { checked: rows.length, mismatches };
  }

  /**
   * An operator's correction (a goodwill credit, taking back coins credited by mistake): a ledger
   * row of kind 'adjustment' with the operator and the reason. A negative adjustment past the
   * balance is refused (409 insufficient_balance): a balance never goes below zero. An operator's
   * own wallet is refused (403 self_adjustment): coins from nothing need a second operator.
   */
  async adjust(operatorId: string, userId: string, amount: number, reason: string): Promise<{ balance: number }> {
    // Coins from nothing into one's own wallet: another operator has to make that correction.
    if (String(operatorId) === String(userId)) throw new ForbiddenError('operators cannot adjust their own wallet', { code: 'self_adjustment' });
    if (!(await this.userExists(userId))) throw new NotFoundError('no such user', { code: 'user_not_found' });
    const now = Date.now();
    const ref = { actorId: operatorId, reason };
    const after = await moneyTransaction(this.db, async (tx) => (amount > 0
      ? credit(tx, userId, amount, 'adjustment', ref, now)
      : debit(tx, userId, -amount, 'adjustment', ref, now)));
    if (after === null) throw new ConflictError('the adjustment would make the balance negative', { code: 'insufficient_balance' });
    this.log.info({ operatorId, userId, amount, reason, balance: after.balance }, 'wallet adjusted by an operator');
    return { balance: after.balance };
  }
}
