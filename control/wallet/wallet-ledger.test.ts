import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { QueryTypes } from 'sequelize';
import { testAdapterSets, type TestPorts } from '../../core/testing/test-ports.js';
import { moneyTransaction } from './money-transaction.js';
import { credit, debit, ensureWallets } from './wallet-ledger.js';

for (const set of testAdapterSets()) describe(`wallet ledger on ${set.name}`, () => {
  let ports: TestPorts;
  before(async () => { ports = await set.make(); });
  after(() => ports.close());

  const rows = <T extends object>(sql: string, r: unknown[] = []) => ports.db.sequelize.query<T>(sql, { replacements: r, type: QueryTypes.SELECT });
  const balance = async (id: string) => Number((await rows<{ balance: number }>('SELECT balance FROM wallets WHERE user_id = ?', [id]))[0]?.balance ?? 0);
  const ledgerSum = async (id: string) => Number((await rows<{ s: number }>('SELECT SUM(amount) AS s FROM wallet_ledger WHERE user_id = ?', [id]))[0]?.s ?? 0);

  it('credits and debits with a ledger row each; a debit past the balance writes nothing', async () => {
    const now = Date.now();
    const first = await moneyTransaction(ports.db, (tx) => credit(tx, '101', 50, 'recharge', { rechargeId: '9' }, now));
    assert.equal(first.balance, 50);
    const spent = await moneyTransaction(ports.db, (tx) => debit(tx, '101', 30, 'gift_sent', {}, now));
    assert.equal(spent?.balance, 20);
    const refused = await moneyTransaction(ports.db, (tx) => debit(tx, '101', 21, 'gift_sent', {}, now));
    assert.equal(refused, null);
    assert.equal(await moneyTransaction(ports.db, (tx) => debit(tx, '102', 1, 'gift_sent', {}, now)), null, 'no wallet: nothing to spend');
    assert.equal(await balance('101'), 20);
    assert.equal(await ledgerSum('101'), 20);
    const kinds = await rows<{ kind: string; amount: number; balance_after: number }>('SELECT kind, amount, balance_after FROM wallet_ledger WHERE user_id = ? ORDER BY id', ['101']);
    assert.deepEqual(kinds.map((k) => [k.kind, Number(k.amount), Number(k.balance_after)]), [['recharge', 50, 50], ['gift_sent', -30, 20]]);
  });

  it('creates missing wallets at zero, leaves existing ones alone', async () => {
    await ensureWallets(ports.db, ['101', '103']);
    assert.equal(await balance('101'), 20);
    assert.deepEqual(await rows('SELECT balance FROM wallets WHERE user_id = ?', ['103']), [{ balance: ports.db.dialect === 'mysql' ? '0' : 0 }]);
  });

  it('refuses a negative balance in the database itself (CHECK), whatever the code does', async () => {
    await assert.rejects(ports.db.sequelize.query("UPDATE wallets SET balance = -1 WHERE user_id = '101'"));
    assert.equal(await balance('101'), 20);
  });

  it('refuses amounts that are not positive integers (a programmer mistake)', async () => {
    await assert.rejects(moneyTransaction(ports.db, (tx) => credit(tx, '101', 0, 'recharge', {}, Date.now())), TypeError);
    await assert.rejects(moneyTransaction(ports.db, (tx) => debit(tx, '101', 1.5, 'gift_sent', {}, Date.now())), TypeError);
  });
});
