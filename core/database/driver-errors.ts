import { ConnectionError, TimeoutError, UniqueConstraintError, type Sequelize } from 'sequelize';
import { DuplicateKeyError, UnavailableError } from '../errors.js';

/**
 * The database's driver errors that mean "the database is away" (connection refused or lost, pool
 * acquire timeout, SQLite busy past its timeout) become an UnavailableError (`unavailable`, 503 at
 * the HTTP edge), the driver's error kept as `cause`, so nothing above the database (handlers, the
 * HTTP error handler) matches Sequelize errors. A unique-key violation becomes a DuplicateKeyError
 * naming the table and the key's fields; the stores and services that expect one say what it means
 * (a taken name, an idempotent retry). Everything else passes unchanged: lock conflicts stay
 * recognisable through the cause chain (isLockConflict walks it).
 */
export function translateDriverError(err: unknown): unknown {
  if (err instanceof ConnectionError || err instanceof TimeoutError) {
    return new UnavailableError('the database is unavailable', { cause: err, code: 'unavailable' });
  }
  if (err instanceof UniqueConstraintError) {
    const sql = String((err as { sql?: unknown }).sql ?? (err.parent as { sql?: unknown } | undefined)?.sql ?? '');
    const table = /^\s*INSERT\s+(?:IGNORE\s+)?INTO\s+[`"]?(\w+)/i.exec(sql)?.[1];
    const fields = [...new Set([...err.errors.map((e) => e.path ?? ''), ...Object.keys(err.fields ?? {})].filter(Boolean))];
    return new DuplicateKeyError(`duplicate key${table ? ` in ${table}` : ''}${fields.length ? ` (${fields.join(', ')})` : ''}`, table, fields, { cause: err });
  }
  return err;
}

/** Applies translateDriverError to every query and transaction of this Sequelize instance (models included: they query through it). */
export function translateDriverErrors(sequelize: Sequelize): void {
  const rethrow = (err: unknown): never => { throw translateDriverError(err); };
  const query = sequelize.query.bind(sequelize) as (...args: unknown[]) => Promise<unknown>;
  (sequelize as { query: unknown }).query = (...args: unknown[]) => query(...args).catch(rethrow);
  const transaction = sequelize.transaction.bind(sequelize) as (...args: unknown[]) => Promise<unknown>;
  (sequelize as { transaction: unknown }).transaction = (...args: unknown[]) => transaction(...args).catch(rethrow);
}
