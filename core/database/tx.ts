import type { DatabaseDialect } from './database.js';

/** The statements a transaction body may run: nothing of Sequelize leaks to the callers. */
export interface Tx {
  readonly dialect: DatabaseDialect;
  run(sql: string, replacements?: unknown[]): Promise<void>;
  select<T extends object>(sql: string, replacements?: unknown[]): Promise<T[]>;
  /** An UPDATE or DELETE; resolves with the number of rows it changed (a conditional update's verdict). */
  update(sql: string, replacements?: unknown[]): Promise<number>;
  /** An INSERT into a table with an auto-increment key; resolves with the new row's id (a decimal string). */
  insert(sql: string, replacements?: unknown[]): Promise<string>;
}
