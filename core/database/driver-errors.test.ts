import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { ConnectionError, Sequelize, UniqueConstraintError } from 'sequelize';
import { UnavailableError } from '../errors.js';
import { openDatabase } from './database.js';
import { translateDriverError, translateDriverErrors } from './driver-errors.js';

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

describe('database driver errors', () => {
  it('a database that is away is an UnavailableError (the driver\'s error as cause), for queries and transactions', async () => {
    const sequelize = new Sequelize(`mysql://root@127.0.0.1:${await closedPort()}/onair`, {
      dialect: 'mysql', logging: false, pool: { max: 1, acquire: 2000 }, retry: { max: 0 },
    });
    translateDriverErrors(sequelize);
    try {
      const q = await sequelize.query('SELECT 1').then(() => null, (err: unknown) => err);
      assert.ok(q instanceof UnavailableError, `query: ${String(q)}`);
      assert.equal(q.code, 'unavailable');
      assert.ok(q.cause instanceof ConnectionError, 'the driver error is kept as cause');
      const t = await sequelize.transaction(async () => 1).then(() => null, (err: unknown) => err);
      assert.ok(t instanceof UnavailableError, `transaction: ${String(t)}`);
    } finally {
      await sequelize.close();
    }
  });

  it('passes other errors unchanged: constraint violations are the stores\' to translate', async () => {
    const db = await openDatabase({ url: 'sqlite::memory:', dataDir: '/tmp' });
    try {
      await db.sequelize.query('CREATE TABLE t (id INTEGER PRIMARY KEY)');
      await db.sequelize.query('INSERT INTO t (id) VALUES (1)');
      const err = await db.sequelize.query('INSERT INTO t (id) VALUES (1)').then(() => null, (e: unknown) => e);
      assert.ok(err instanceof UniqueConstraintError);
      const plain = new Error('x');
      assert.equal(translateDriverError(plain), plain);
    } finally {
      await db.close();
    }
  });
});
