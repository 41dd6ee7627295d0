/**
 * The rest of a recharge's life (issue 12 point 2): a paid recharge refunded through the provider
 * port (ledger row, never below zero, coins returned when the provider refuses), unpaid orders
 * expiring (the worker; a late webhook for an expired order credits once, as paid_late), and
 * payment_webhooks pruning (its retention must outlive the signature window). Both adapter sets.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { signWebhook, SIGNATURE_HEADER } from '../../core/payments/webhook-signature.js';
import { testAdapterSets, testConfig } from '../../core/testing/test-ports.js';
import { waitFor } from '../../core/testing/wait-for.js';
import { makeKit, type Kit } from '../testing/control-kit.js';

const SECRET = 'sandbox-secret-of-the-refund-tests';

for (const set of testAdapterSets()) {
  describe(`recharge refunds, expiry and webhook pruning on ${set.name}`, () => {
    let kit: Kit;
    let base: string;
    let op: { id: string; auth: { Authorization: string } };
    before(async () => {
      kit = await makeKit(set, { payments: { provider: 'sandbox', sandboxSecret: SECRET, orderTtl: '3s' } });
      base = await kit.listen();
      // The sandbox delivers its webhooks to this listener (the port is known only now).
      kit.ports.config.payments.notifyUrl = `${base}/api/v1/payments/webhook/sandbox`;
      op = await kit.operator();
    });
    after(async () => {
      await kit?.close();
    });

    const balance = async (auth: { Authorization: string }) => (await kit.http.get('/api/v1/wallet').set(auth).expect(200)).body.balance as number;
    const consistent = async (userId: string) => (await kit.http.get(`/api/v1/admin/wallets/${userId}`).set(op.auth).expect(200)).body.consistent as boolean;
    const paidRecharge = async (auth: { Authorization: string }, coins: number) => {
      const order = (await kit.http.post('/api/v1/wallet/recharges').set(auth).send({ coins }).expect(201)).body;
      const paid = (await kit.http.post(order.pay_url.replace(/^\/api\/v1/, '/api/v1')).set(auth).expect(200)).body;
      assert.equal(paid.webhook.response_status, 200, JSON.stringify(paid.webhook));
      return order as { id: string; provider_ref: string; amount: number; currency: string };
    };
    const sandboxStatus = async (ref: string) => (await kit.http.get(`/api/v1/payments/sandbox/${ref}`).expect(200)).body.status as string;

    it('refunds a paid recharge through the provider: coins leave the wallet once, ledger and balance agree', async () => {
      const user = await kit.user('viewer');
      const order = await paidRecharge(user.auth, 100);
      assert.equal(await balance(user.auth), 100);
      assert.equal((await kit.http.post(`/api/v1/admin/recharges/${order.id}/refund`).set(user.auth).send({ reason: 'mine' })).status, 403);
      assert.equal((await kit.http.post(`/api/v1/admin/recharges/${order.id}/refund`).set(op.auth).send({})).status, 400);
      const refunded = (await kit.http.post(`/api/v1/admin/recharges/${order.id}/refund`).set(op.auth).send({ reason: 'customer asked' }).expect(200)).body;
      assert.equal(refunded.status, 'refunded');
      assert.equal(refunded.refund_reason, 'customer asked');
      assert.ok(refunded.refunded_at);
      assert.equal(await balance(user.auth), 0);
      assert.equal(await sandboxStatus(order.provider_ref), 'refunded');
      const ledger = (await kit.http.get('/api/v1/wallet/ledger').set(user.auth).expect(200)).body.entries;
      assert.deepEqual(ledger.map((e: any) => [e.kind, e.amount, e.recharge_id]), [['refund', -100, order.id], ['recharge', 100, order.id]]);
      assert.equal(await consistent(user.id), true);
      const again = await kit.http.post(`/api/v1/admin/recharges/${order.id}/refund`).set(op.auth).send({ reason: 'twice' });
      assert.equal(again.status, 409);
      assert.equal(again.body.error.code, 'recharge_not_refundable');
      assert.equal(await balance(user.auth), 0);
      assert.equal((await kit.http.post('/api/v1/admin/recharges/99999999/refund').set(op.auth).send({ reason: 'nothing' })).status, 404);
    });

    it('refunds an order once when operators click at once: one 200, the others 409, no 500, coins and money back once', async () => {
      const user = await kit.user('viewer');
      const order = await paidRecharge(user.auth, 70);
      const answers = await Promise.all(Array.from({ length: 20 }, () => kit.http.post(`/api/v1/admin/recharges/${order.id}/refund`).set(op.auth).send({ reason: 'double click' }).then((r) => r)));
      const statuses = answers.map((a) => `${a.status}:${a.body.error?.code ?? a.body.status}`);
      assert.equal(statuses.filter((x) => x === '200:refunded').length, 1, statuses.join(' '));
      for (const x of statuses.filter((y) => y !== '200:refunded')) assert.match(x, /^409:(refund_in_progress|recharge_not_refundable)$/);
      assert.equal(await balance(user.auth), 0);
      assert.equal(await sandboxStatus(order.provider_ref), 'refunded');
      const ledger = (await kit.http.get('/api/v1/wallet/ledger').set(user.auth).expect(200)).body.entries;
      assert.deepEqual(ledger.map((e: any) => [e.kind, e.amount]), [['refund', -70], ['recharge', 70]]);
      assert.equal(await consistent(user.id), true);
    });

    it('refuses a refund whose coins were already spent (never below zero), and returns the coins when the provider refuses', async () => {
      const user = await kit.user('viewer');
      const order = await paidRecharge(user.auth, 100);
      // 60 coins go (an operator debit stands for spending them on gifts).
      await kit.http.post(`/api/v1/admin/wallets/${user.id}/adjust`).set(op.auth).send({ amount: -60, reason: 'spent on gifts' }).expect(200);
      const uncovered = await kit.http.post(`/api/v1/admin/recharges/${order.id}/refund`).set(op.auth).send({ reason: 'too late' });
      assert.equal(uncovered.status, 409);
      assert.equal(uncovered.body.error.code, 'refund_uncovered');
      assert.equal(await balance(user.auth), 40);
      assert.equal((await kit.http.get(`/api/v1/wallet/recharges/${order.id}`).set(user.auth).expect(200)).body.status, 'paid');
      assert.equal(await sandboxStatus(order.provider_ref), 'succeeded');

      // The provider refuses (its payment was closed behind onair's back): the debit is undone.
      const second = await paidRecharge(user.auth, 50);
      await kit.ports.db.sequelize.query("UPDATE sandbox_payments SET status = 'cancelled' WHERE ref = ?", { replacements: [second.provider_ref] });
      const failed = await kit.http.post(`/api/v1/admin/recharges/${second.id}/refund`).set(op.auth).send({ reason: 'provider down' });
      assert.equal(failed.status, 503);
      assert.equal(failed.body.error.code, 'refund_failed');
      assert.equal(await balance(user.auth), 90);
      assert.equal((await kit.http.get(`/api/v1/wallet/recharges/${second.id}`).set(user.auth).expect(200)).body.status, 'paid');
      assert.equal(await consistent(user.id), true);
    });

    it('expires unpaid orders (the worker), closes them at the provider, and credits a late webhook once as paid_late', async () => {
      const user = await kit.user('viewer');
      const order = (await kit.http.post('/api/v1/wallet/recharges').set(user.auth).send({ coins: 30 }).expect(201)).body;
      assert.equal(order.status, 'created');
      await waitFor('the order expired', async () => (await kit.http.get(`/api/v1/wallet/recharges/${order.id}`).set(user.auth)).body.status === 'expired' || undefined, 15_000, 200);
      assert.equal(await sandboxStatus(order.provider_ref), 'cancelled');
      const pay = await kit.http.post(`/api/v1/payments/sandbox/${order.provider_ref}/pay`);
      assert.equal(pay.status, 409);
      assert.equal(pay.body.error.code, 'payment_already_settled');
      assert.equal(await balance(user.auth), 0);

      // The provider took the money anyway (a payment racing the expiry): its signed webhook arrives late.
      const body = JSON.stringify({
        id: `evt_${randomBytes(6).toString('hex')}`, type: 'payment.succeeded', created: Math.floor(Date.now() / 1000), delivery: `dlv_${randomBytes(8).toString('hex')}`,
        data: { ref: order.provider_ref, merchant_order_id: order.id, amount: order.amount, currency: order.currency },
      });
      const post = (signature: string) => fetch(`${base}/api/v1/payments/webhook/sandbox`, { method: 'POST', headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signature }, body })
        .then(async (r) => ({ status: r.status, body: await r.json() as any }));
      const signature = signWebhook(SECRET, body, Math.floor(Date.now() / 1000));
      const late = await post(signature);
      assert.equal(late.status, 200, JSON.stringify(late.body));
      assert.equal(late.body.outcome, 'paid_late');
      assert.equal(late.body.order.status, 'paid');
      assert.equal(await balance(user.auth), 30);
      const replay = await post(signature);
      assert.equal(replay.status, 409);
      assert.equal(replay.body.error.code, 'webhook_replayed');
      const retried = await post(signWebhook(SECRET, body, Math.floor(Date.now() / 1000) + 1));
      assert.equal(retried.body.outcome, 'duplicate');
      assert.equal(await balance(user.auth), 30);
      assert.equal(await consistent(user.id), true);
    });

    it('credits a payment the provider reports succeeded after it reported it failed (a declined try, or events out of order)', async () => {
      const user = await kit.user('viewer');
      const order = (await kit.http.post('/api/v1/wallet/recharges').set(user.auth).send({ coins: 40 }).expect(201)).body;
      // The provider's payment.failed arrives first (a declined card; or delivered after the success, out of order).
      const failed = JSON.stringify({
        id: `evt_${randomBytes(6).toString('hex')}`, type: 'payment.failed', created: Math.floor(Date.now() / 1000), delivery: `dlv_${randomBytes(8).toString('hex')}`,
        data: { ref: order.provider_ref, merchant_order_id: order.id, amount: order.amount, currency: order.currency },
      });
      const told = await fetch(`${base}/api/v1/payments/webhook/sandbox`, {
        method: 'POST', headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signWebhook(SECRET, failed, Math.floor(Date.now() / 1000)) }, body: failed,
      }).then(async (r) => ({ status: r.status, body: await r.json() as any }));
      assert.equal(told.status, 200, JSON.stringify(told.body));
      assert.equal(told.body.order.status, 'failed');
      // The user tries again at the checkout and pays: the provider took the money, the user must get the coins.
      const paid = (await kit.http.post(`/api/v1/payments/sandbox/${order.provider_ref}/pay`).expect(200)).body;
      assert.equal(paid.webhook.response_status, 200, JSON.stringify(paid.webhook));
      assert.equal(paid.webhook.response.outcome, 'paid_late');
      assert.equal((await kit.http.get(`/api/v1/wallet/recharges/${order.id}`).set(user.auth).expect(200)).body.status, 'paid');
      assert.equal(await balance(user.auth), 40);
      // The provider's retry changes nothing; a failure told after the success neither.
      const retried = (await kit.http.post(`/api/v1/payments/sandbox/${order.provider_ref}/redeliver`).expect(200)).body;
      assert.equal(retried.webhook.response.outcome, 'duplicate');
      const lateFailure = failed.replace(/"delivery":"[^"]+"/, `"delivery":"dlv_${randomBytes(8).toString('hex')}"`);
      const after = await fetch(`${base}/api/v1/payments/webhook/sandbox`, {
        method: 'POST', headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signWebhook(SECRET, lateFailure, Math.floor(Date.now() / 1000)) }, body: lateFailure,
      }).then(async (r) => ({ status: r.status, body: await r.json() as any }));
      assert.equal(after.body.outcome, 'duplicate');
      assert.equal(await balance(user.auth), 40);
      assert.equal(await consistent(user.id), true);
    });

    it('prunes payment_webhooks past the retention, and refuses a retention inside the signature window', async () => {
      const now = Date.now();
      const day = 86_400_000;
      for (const [sig, at] of [[`old-${now}`, now - 31 * day], [`new-${now}`, now - day]] as const) {
        await kit.ports.db.sequelize.query('INSERT INTO payment_webhooks (provider, delivery_sig, event_id, recharge_id, outcome, received_at) VALUES (?, ?, ?, NULL, ?, ?)', { replacements: ['sandbox', sig, 'evt', 'paid', at] });
      }
      const deleted = await kit.control.money.recharges.pruneWebhooks(30 * day, now);
      assert.equal(deleted, 1);
      const [row] = await kit.ports.db.sequelize.query<{ n: number }>('SELECT COUNT(*) AS n FROM payment_webhooks WHERE delivery_sig IN (?, ?)', { replacements: [`old-${now}`, `new-${now}`], type: 'SELECT' as never });
      assert.equal(Number(row!.n), 1);
      assert.equal(await kit.control.money.recharges.pruneWebhooks(0, now), 0);
      assert.throws(() => testConfig({ payments: { webhookTolerance: '5m', webhookRetention: '4m' } }), /webhookRetention/);
    });
  });
}
