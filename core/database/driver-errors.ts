import { ConnectionError, TimeoutError, type Sequelize } from 'sequelize';
import { UnavailableError } from '../errors.js';

/**
 * The database's driver errors that mean "the database is away" (connection refused or lost, pool
 * acquire timeout, SQLite busy past its timeout) become an UnavailableError (`unavailable`, 503 at
 * the HTTP edge), the driver's error kept as `cause`, so nothing above the database (handlers, the
 * HTTP error handler) matches Sequelize errors. Everything else passes unchanged: constraint
 * violations are the stores' to translate (they know which conflict it is), and lock conflicts stay
 * recognisable through the cause chain (isLockConflict walks it).
 */
export function translateDriverError(err: unknown): unknown {
  if (err instanceof ConnectionError || err instanceof TimeoutError) {
    return new UnavailableError('the database is unavailable', { cause: err, code: 'unavailable' });
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
