import { setTimeout as sleep } from 'node:timers/promises';
import type { Database } from '../../core/database/database.js';
import { isLockConflict, runInTransaction, type Tx } from '../../core/event-bus/db-transaction.js';
import { UnavailableError } from '../../core/errors.js';

/**
 * A money transaction: runInTransaction, run again when the database rolled it back for a lock
 * conflict. Two users gifting each other at the same moment lock the two wallet rows in opposite
 * orders (each debits their own row first); InnoDB breaks that deadlock by rolling one back whole,
 * and running it again is the server's own advice. A conflict that persists is a 503.
 */
export async function moneyTransaction<T>(db: Database, fn: (tx: Tx) => Promise<T>, attempts = 6): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await runInTransaction(db, fn);
    } catch (err) {
      if (!isLockConflict(err)) throw err;
      if (attempt >= attempts) throw new UnavailableError('the wallet is busy, try again', { cause: err, code: 'wallet_busy' });
      await sleep(5 + Math.random() * 20 * attempt);
    }
  }
}
