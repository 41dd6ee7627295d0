import { QueryTypes } from 'sequelize';
import type { Database } from '../../core/database/database.js';
import type { Tx } from '../../core/event-bus/db-transaction.js';

/**
 * The money primitives, run inside a caller's transaction: every change of a balance writes its
 * ledger row in the same transaction, so SUM(wallet_ledger.amount) of a user always equals
 * wallets.balance (WalletService.reconcile checks it).
 *
 * A debit is ONE conditional statement, `UPDATE wallets SET balance = balance - n WHERE user_id = ?
 * AND balance >= n`, not a SELECT ... FOR UPDATE followed by an UPDATE: the check and the change
 * are the same atomic step on every dialect (InnoDB evaluates the WHERE on the latest committed row
 * under the row's exclusive lock, whatever the isolation level; SQLite runs one writer at a time),
 * it costs one round trip instead of two while the lock is held, and a refused debit has written
 * nothing, which runInTransaction on SQLite needs (its transactions avoid expected rollbacks). The
 * lock then lasts until the caller's commit, so concurrent sends of one user queue on their wallet row.
 * A transaction that changes two wallets calls lockWallets() first (ascending ids) so that two of
 * them never wait for each other's rows in opposite orders.
 */
export type LedgerKind = 'recharge' | 'gift_sent' | 'gift_income' | 'refund' | 'adjustment';

export interface LedgerRef {
  orderId?: string;
  rechargeId?: string;
  /** The operator behind an adjustment. */
  actorId?: string;
  reason?: string;
}

/** Ascending numeric order of decimal ids: the one order every transaction locks wallets in. */
const byId = (a: string, b: string) => (a.length - b.length) || (a < b ? -1 : a > b ? 1 : 0);

/**
 * Creates the wallets that do not exist yet (balance 0, nothing to record), before the money
 * transaction and outside it. Only missing ones are inserted, found by a plain read that takes no
 * lock: an INSERT IGNORE of an existing row takes a shared lock on it, which would queue behind (and
 * deadlock with) transactions holding that wallet while it holds another.
 */
export async function ensureWallets(db: Database, userIds: string[]): Promise<void> {
  const ids = [...new Set(userIds)].sort(byId);
  const found = await db.sequelize.query<{ user_id: string | number }>(
    `SELECT user_id FROM wallets WHERE user_id IN (${ids.map(() => '?').join(', ')})`, { replacements: ids, type: QueryTypes.SELECT },
  );
  const have = new Set(found.map((r) => String(r.user_id)));
  const missing = ids.filter((id) => !have.has(id));
  if (!missing.length) return;
  const verb = db.dialect === 'sqlite' ? 'INSERT OR IGNORE' : 'INSERT IGNORE';
  await db.sequelize.query(`${verb} INTO wallets (user_id, balance, updated_at) VALUES ${missing.map(() => '(?, 0, ?)').join(', ')}`, {
    replacements: missing.flatMap((id) => [id, Date.now()]),
  });
}

/**
 * Locks the wallets a transaction will change, in ascending user id order, before it changes any.
 * Without it, A gifting B while B gifts A lock the two rows in opposite orders (each debits their
 * own first) and InnoDB kills one of them as a deadlock, over and over under load. SQLite has one
 * writer at a time: nothing to do there.
 */
export async function lockWallets(tx: Tx, userIds: string[]): Promise<void> {
  if (tx.dialect !== 'mysql') return;
  const ids = [...new Set(userIds)].sort(byId);
  // One row at a time, in order: the order the locks are taken in is then ours, not the optimizer's.
  for (const id of ids) await tx.select('SELECT user_id FROM wallets WHERE user_id = ? FOR UPDATE', [id]);
}

async function balanceOf(tx: Tx, userId: string): Promise<number> {
  // FOR UPDATE on InnoDB: a current read of the row this transaction holds locked.
  const rows = await tx.select<{ balance: string | number }>(
    `SELECT balance FROM wallets WHERE user_id = ?${tx.dialect === 'mysql' ? ' FOR UPDATE' : ''}`, [userId],
  );
  return Number(rows[0]?.balance ?? 0);
}

async function writeLedger(tx: Tx, userId: string, kind: LedgerKind, amount: number, balanceAfter: number, ref: LedgerRef, now: number): Promise<string> {
  return tx.insert(
    'INSERT INTO wallet_ledger (user_id, kind, amount, balance_after, order_id, recharge_id, actor_id, reason, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    [userId, kind, amount, balanceAfter, ref.orderId ?? null, ref.rechargeId ?? null, ref.actorId ?? null, ref.reason ?? null, now],
  );
}

/** The balance after a change, and the id of the ledger row that records it. */
export interface Posted {
  balance: number;
  entryId: string;
}

/** Adds `amount` (> 0) coins, creating the wallet on first use. */
export async function credit(tx: Tx, userId: string, amount: number, kind: LedgerKind, ref: LedgerRef, now: number): Promise<Posted> {
  if (!Number.isSafeInteger(amount) || amount <= 0) throw new TypeError(`credit amount must be a positive integer, got ${amount}`);
  const upsert = tx.dialect === 'sqlite'
    ? 'INSERT INTO wallets (user_id, balance, updated_at) VALUES (?, ?, ?) ON CONFLICT(user_id) DO UPDATE SET balance = balance + excluded.balance, updated_at = excluded.updated_at'
    : 'INSERT INTO wallets (user_id, balance, updated_at) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE balance = balance + VALUES(balance), updated_at = VALUES(updated_at)';
  await tx.update(upsert, [userId, amount, now]);
  const balance = await balanceOf(tx, userId);
  return { balance, entryId: await writeLedger(tx, userId, kind, amount, balance, ref, now) };
}

/** Takes `amount` (> 0) coins if the balance covers them; null (nothing written) when it does not. */
export async function debit(tx: Tx, userId: string, amount: number, kind: LedgerKind, ref: LedgerRef, now: number): Promise<Posted | null> {
  if (!Number.isSafeInteger(amount) || amount <= 0) throw new TypeError(`debit amount must be a positive integer, got ${amount}`);
  const changed = await tx.update(
    'UPDATE wallets SET balance = balance - ?, updated_at = ? WHERE user_id = ? AND balance >= ?', [amount, now, userId, amount],
  );
  if (changed === 0) return null;
  const balance = await balanceOf(tx, userId);
  return { balance, entryId: await writeLedger(tx, userId, kind, -amount, balance, ref, now) };
}

/** Points a ledger row at the order it paid for (a debit comes before its order row exists). */
export async function linkOrder(tx: Tx, entryId: string, orderId: string): Promise<void> {
  await tx.update('UPDATE wallet_ledger SET order_id = ? WHERE id = ?', [orderId, entryId]);
}
