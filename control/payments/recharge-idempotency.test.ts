/**
 * POST /wallet/recharges {coins, client_order_id}: a double click or a client's retry after a
 * timeout makes one order (the second answer is 200 with the first order and replayed:true, as a
 * repeated gift send), the same key with other coins is 409 client_order_id_reused, and requests
 * without a key make a new order each time, as before. Both adapter sets.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testAdapterSets } from '../../core/testing/test-ports.js';
import { makeKit, type Kit } from '../testing/control-kit.js';

for (const set of testAdapterSets()) {
  describe(`recharge idempotency key on ${set.name}`, () => {
    let kit: Kit;
    let base: string;
    before(async () => {
      kit = await makeKit(set, { payments: { provider: 'sandbox', sandboxSecret: 'sandbox-secret-of-the-idempotency-tests' } });
      base = await kit.listen();
      kit.ports.config.payments.notifyUrl = `${base}/api/v1/payments/webhook/sandbox`;
    });
    after(async () => {
      await kit?.close();
    });

    const orders = async (auth: { Authorization: string }) => (await kit.http.get('/api/v1/wallet/recharges').set(auth).expect(200)).body.orders as Array<{ id: string }>;

    it('answers a repeated request with the same client_order_id with the first order (200, replayed), even after it was paid', async () => {
      const user = await kit.user('viewer');
      const first = await kit.http.post('/api/v1/wallet/recharges').set(user.auth).send({ coins: 100, client_order_id: 'recharge-key-0001' });
      assert.equal(first.status, 201, JSON.stringify(first.body));
      assert.equal(first.body.replayed, false);
      assert.equal(first.body.client_order_id, 'recharge-key-0001');
      const again = await kit.http.post('/api/v1/wallet/recharges').set(user.auth).send({ coins: 100, client_order_id: 'recharge-key-0001' });
      assert.equal(again.status, 200, JSON.stringify(again.body));
      assert.equal(again.body.replayed, true);
      assert.equal(again.body.id, first.body.id);
      assert.equal(again.body.pay_url, first.body.pay_url);
      assert.equal((await orders(user.auth)).length, 1);

      // Paid, then the retry arrives: still that order, no second one, coins credited once.
      await kit.http.post(first.body.pay_url).set(user.auth).expect(200);
      const late = await kit.http.post('/api/v1/wallet/recharges').set(user.auth).send({ coins: 100, client_order_id: 'recharge-key-0001' }).expect(200);
      assert.equal(late.body.id, first.body.id);
      assert.equal(late.body.status, 'paid');
      assert.equal((await kit.http.get('/api/v1/wallet').set(user.auth).expect(200)).body.balance, 100);
      assert.equal((await orders(user.auth)).length, 1);
    });

    it('makes one order for a double click (two requests at once with one key)', async () => {
      const user = await kit.user('viewer');
      const answers = await Promise.all([1, 2, 3].map(() => kit.http.post('/api/v1/wallet/recharges').set(user.auth).send({ coins: 30, client_order_id: 'double-click-key' }).then((r) => r)));
      const statuses = answers.map((a) => `${a.status}:${a.body.id ?? a.body.error?.code}`);
      assert.equal(answers.filter((a) => a.status === 201).length, 1, statuses.join(' '));
      for (const a of answers) assert.ok(a.status === 201 || a.status === 200 || (a.status === 409 && a.body.error.code === 'recharge_in_progress'), statuses.join(' '));
      assert.equal((await orders(user.auth)).length, 1);
    });

    it('refuses the same key with other coins (409 client_order_id_reused); keys are per user; no key works as before', async () => {
      const user = await kit.user('viewer');
      const other = await kit.user('viewer');
      const first = (await kit.http.post('/api/v1/wallet/recharges').set(user.auth).send({ coins: 10, client_order_id: 'shared-key-01' }).expect(201)).body;
      const reused = await kit.http.post('/api/v1/wallet/recharges').set(user.auth).send({ coins: 20, client_order_id: 'shared-key-01' });
      assert.equal(reused.status, 409);
      assert.equal(reused.body.error.code, 'client_order_id_reused');
      const theirs = (await kit.http.post('/api/v1/wallet/recharges').set(other.auth).send({ coins: 10, client_order_id: 'shared-key-01' }).expect(201)).body;
      assert.notEqual(theirs.id, first.id);
      const a = (await kit.http.post('/api/v1/wallet/recharges').set(user.auth).send({ coins: 10 }).expect(201)).body;
      const b = (await kit.http.post('/api/v1/wallet/recharges').set(user.auth).send({ coins: 10 }).expect(201)).body;
      assert.notEqual(a.id, b.id);
      assert.equal(a.client_order_id, null);
      assert.equal((await orders(user.auth)).length, 3);
      assert.equal((await kit.http.post('/api/v1/wallet/recharges').set(user.auth).send({ coins: 10, client_order_id: 'bad key!' })).status, 400);
    });
  });
}
