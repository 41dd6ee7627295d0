import type { Transaction } from 'sequelize';
import type { Database } from '../database/database.js';

const chains = new WeakMap<Database, Promise<unknown>>();

/**
 * A transaction that works on both dialects under concurrency. MySQL: sequelize's transaction.
 * SQLite: sequelize runs an in-memory database's transactions on its one shared connection (two
 * at once fail with "cannot start a transaction within a transaction") and a file database's on
 * a connection of their own without a busy timeout. So this process runs its SQLite transactions
 * one at a time, and gives each connection a busy timeout to wait out the other writer.
 */
export async function runInTransaction<T>(db: Database, fn: (t: Transaction) => Promise<T>): Promise<T> {
  if (db.dialect !== 'sqlite') return db.sequelize.transaction(fn);
  const previous = chains.get(db) ?? Promise.resolve();
  const run = previous.catch(() => undefined).then(() =>
    db.sequelize.transaction(async (t) => {
      await db.sequelize.query('PRAGMA busy_timeout = 5000', { transaction: t });
      return fn(t);
    }));
  chains.set(db, run.catch(() => undefined));
  return run;
}
