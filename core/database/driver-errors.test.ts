import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { ConnectionError, Sequelize, UniqueConstraintError } from 'sequelize';
import { DuplicateKeyError, UnavailableError } from '../errors.js';
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

  it('a unique-key violation is a DuplicateKeyError naming the table and key (the driver\'s error as cause); other errors pass unchanged', async () => {
    const urls = ['sqlite::memory:', ...(process.env.ONAIR_TEST_DATABASE_URL ? [process.env.ONAIR_TEST_DATABASE_URL] : [])];
    for (const url of urls) {
      const db = await openDatabase({ url, dataDir: '/tmp' });
      const table = `dup_probe_${process.pid}`;
      try {
        await db.sequelize.query(`DROP TABLE IF EXISTS ${table}`);
        await db.sequelize.query(`CREATE TABLE ${table} (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL UNIQUE)`);
        await db.sequelize.query(`INSERT INTO ${table} (id, name) VALUES (1, 'a')`);
        const err = await db.sequelize.query(`INSERT INTO ${table} (id, name) VALUES (2, 'a')`).then(() => null, (e: unknown) => e);
        assert.ok(err instanceof DuplicateKeyError, `${url}: ${String(err)}`);
        assert.equal(err.code, 'duplicate');
        assert.equal(err.table, table);
        assert.ok(err.fields.some((f) => f.includes('name')), `${url}: fields ${err.fields.join(',')}`);
        assert.ok(err.cause instanceof UniqueConstraintError, 'the driver error is kept as cause');
        const inTx = await db.sequelize.transaction(async (transaction) => {
          await db.sequelize.query(`INSERT INTO ${table} (id, name) VALUES (1, 'b')`, { transaction });
        }).then(() => null, (e: unknown) => e);
        assert.ok(inTx instanceof DuplicateKeyError, `${url} in a transaction: ${String(inTx)}`);
        const plain = new Error('x');
        assert.equal(translateDriverError(plain), plain);
      } finally {
        await db.sequelize.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
        await db.close();
      }
    }
  });
});
