import { setTimeout as sleep } from 'node:timers/promises';
import type { Database } from '../../core/database/database.js';
import { isLockConflict, runInTransaction, type Tx } from '../../core/event-bus/db-transaction.js';
import { UnavailableError } from '../../core/errors.js';

/**
 * A money transaction: runInTransaction, run again when the database rolled it back for a lock
 * conflict (InnoDB's deadlock 1213 or lock wait timeout 1205; running it again is the server's own
 * advice). Transactions that change two wallets lock them in one order first (lockWallets), so
 * conflicts are rare; one that persists is a 503 wallet_busy.
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
