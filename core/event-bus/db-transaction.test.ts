import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isLockConflict } from './db-transaction.js';

describe('isLockConflict', () => {
  // The shapes sequelize gives: a DatabaseError whose parent/original is the driver's error.
  const driver = (errno: number, code: string) => Object.assign(new Error(code), { errno, code });
  const wrapped = (inner: Error) => Object.assign(new Error('DatabaseError'), { parent: inner, original: inner });

  for (const [name, err, expected] of [
    ['InnoDB deadlock, wrapped', wrapped(driver(1213, 'ER_LOCK_DEADLOCK')), true],
    ['lock wait timeout', driver(1205, 'ER_LOCK_WAIT_TIMEOUT'), true],
    ['SQLite busy', Object.assign(new Error('busy'), { code: 'SQLITE_BUSY' }), true],
    ['deadlock as the cause of a domain error', Object.assign(new Error('x'), { cause: wrapped(driver(1213, 'ER_LOCK_DEADLOCK')) }), true],
    ['duplicate key', wrapped(driver(1062, 'ER_DUP_ENTRY')), false],
    ['connection refused', Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }), false],
    ['not an error', undefined, false],
  ] as const) {
    it(`${name}: ${expected}`, () => assert.equal(isLockConflict(err), expected));
  }
});
