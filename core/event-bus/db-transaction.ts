import { QueryTypes, type Transaction } from 'sequelize';
import type { Database } from '../database/database.js';
import type { Tx } from '../database/tx.js';
import { TurnBatcher } from './turn-batcher.js';

export type { Tx } from '../database/tx.js';

function txOf(db: Database, transaction: Transaction | undefined): Tx {
  return {
    dialect: db.dialect,
    async run(sql, replacements = []) {
      await db.sequelize.query(sql, { replacements, transaction });
    },
    select<T extends object>(sql: string, replacements: unknown[] = []) {
      return db.sequelize.query<T>(sql, { replacements, type: QueryTypes.SELECT, transaction });
    },
    async update(sql, replacements = []) {
      const [, affected] = await db.sequelize.query(sql, { replacements, type: QueryTypes.UPDATE, transaction });
      return Number(affected);
    },
    async insert(sql, replacements = []) {
      const [insertId] = await db.sequelize.query(sql, { replacements, type: QueryTypes.INSERT, transaction });
      return String(insertId);
    },
  };
}

const chains = new WeakMap<Database, Promise<unknown>>();

/**
 * A transaction on either dialect. MySQL/MariaDB: sequelize's (its own pooled connection).
 * SQLite: sequelize would open a new SQLite connection per transaction for a file database (slow,
 * and without a busy timeout) and share the one connection of an in-memory database (two at once
 * fail with "cannot start a transaction within a transaction"). So this process runs its SQLite
 * transactions one at a time as BEGIN IMMEDIATE ... COMMIT on the default connection. Statements
 * other code issues meanwhile on that connection land inside the transaction; they commit with it,
 * which is why the bodies here avoid expected rollbacks (duplicates are checked, not caught).
 */
export async function runInTransaction<T>(db: Database, fn: (tx: Tx) => Promise<T>): Promise<T> {
  if (db.dialect !== 'sqlite') return db.sequelize.transaction((t) => fn(txOf(db, t)));
  const previous = chains.get(db) ?? Promise.resolve();
  const run = previous.catch(() => undefined).then(async () => {
    await db.sequelize.query('BEGIN IMMEDIATE');
    try {
      const result = await fn(txOf(db, undefined));
      await db.sequelize.query('COMMIT');
      return result;
    } catch (err) {
      await db.sequelize.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  });
  chains.set(db, run.catch(() => undefined));
  return run;
}

/**
 * A lock conflict the database resolved by rolling this transaction back: InnoDB's deadlock (1213)
 * or lock wait timeout (1205), SQLite's busy. The server's advice is to run the transaction again.
 */
export function isLockConflict(err: unknown): boolean {
  let e = err as { errno?: number; code?: string; parent?: unknown; original?: unknown; cause?: unknown } | undefined;
  for (let depth = 0; e && depth < 5; depth++) {
    if (e.errno === 1213 || e.errno === 1205 || e.code === 'ER_LOCK_DEADLOCK' || e.code === 'ER_LOCK_WAIT_TIMEOUT' || e.code === 'SQLITE_BUSY') return true;
    e = (e.parent ?? e.original ?? e.cause) as typeof e;
  }
  return false;
}

interface Job { fn: (tx: Tx) => Promise<unknown>; resolve(v: unknown): void; reject(e: unknown): void }

/**
 * Group commit: bodies submitted in the same event-loop turn share one transaction (one fsync),
 * each inside its own SAVEPOINT, so one failing body is rolled back alone and rejects alone while
 * the others commit. If the commit itself fails, every body of the group rejects (and is retried
 * by its caller). This is what lets the consumer write thousands of markers per second.
 */
export class GroupCommitter {
  private readonly batcher: TurnBatcher<Job>;

  constructor(private readonly db: Database, maxBatch = 128) {
    this.batcher = new TurnBatcher(maxBatch, (jobs) => this.commit(jobs));
  }

  run<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => this.batcher.push({ fn, resolve: resolve as (v: unknown) => void, reject }));
  }

  private async commit(jobs: Job[]): Promise<void> {
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    try {
      await runInTransaction(this.db, async (tx) => {
        for (let i = 0; i < jobs.length; i++) {
          await tx.run(`SAVEPOINT gc${i}`);
          try {
            outcomes.push({ ok: true, value: await jobs[i]!.fn(tx) });
            await tx.run(`RELEASE SAVEPOINT gc${i}`);
          } catch (error) {
            await tx.run(`ROLLBACK TO SAVEPOINT gc${i}`);
            await tx.run(`RELEASE SAVEPOINT gc${i}`);
            outcomes.push({ ok: false, error });
          }
        }
      });
    } catch (error) {
      for (const j of jobs) j.reject(error);
      return;
    }
    jobs.forEach((j, i) => {
      const o = outcomes[i]!;
      if (o.ok) j.resolve(o.value);
      else j.reject(o.error);
    });
  }
}
