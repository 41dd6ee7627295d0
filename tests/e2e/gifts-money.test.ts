/**
 * Issue 12 through the real stack (HTTP API, media engine pushed by ffmpeg, SQLite or MariaDB +
 * Redis): the gift catalog, recharges through the sandbox provider and its signed webhooks (forged,
 * replayed and expired deliveries change nothing), gift sends (idempotent, never below zero, combos,
 * the broadcast another node receives, the ranking), operator adjustments, the ledger always equal
 * to the balance, and the settled show's gift income.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { missingTool } from '../../core/testing/tools.js';
import { signWebhook, SIGNATURE_HEADER } from '../../core/payments/webhook-signature.js';
import type { Delivery, PubSub } from '../../core/pubsub/index.js';
import { join } from 'node:path';
import { openDatabase } from '../../core/database/database.js';
import { stackAdapterSets, startStack, until, type Stack } from './onair-stack.js';
import { recharge, SANDBOX_SECRET, startMoneyStack, type LiveRoom, type MoneyStack } from './gifts-kit.js';

const skip = missingTool('ffmpeg');

for (const set of stackAdapterSets()) describe(`gifts and money on ${set.name}`, { skip }, () => {
  let money: MoneyStack;
  let stack: Stack;
  let databaseUrl: string;
  let op: string;
  let anchor: { token: string; id: string };
  let viewer: { token: string; id: string };
  let live: LiveRoom;
  let rose: { id: string; price: number };
  let rocket: { id: string; price: number };
  /** A second control node's view of the room channel (Redis set only): what it receives. */
  let otherNode: PubSub | undefined;
  const received: Delivery[] = [];

  before(async () => {
    money = await startMoneyStack(set);
    ({ stack, op } = money);
    databaseUrl = money.env.ONAIR_DATABASE_URL ?? `sqlite:${join(stack.dataDir, 'onair.db')}`;
    anchor = await stack.user('anchor');
    viewer = await stack.user('viewer');
    live = await money.liveRoom(anchor);
    otherNode = await money.otherNodeOn(live.roomId, received);
  });
  after(async () => {
    await money?.close();
  });

  const wallet = async (token: string) => (await stack.call('GET', '/wallet', undefined, token)).body.balance as number;
  const reconcile = async (userId: string) => (await stack.call('GET', `/admin/wallets/${userId}`, undefined, op)).body;
  const postWebhook = (body: string, signature: string) => fetch(`${stack.api}/payments/webhook/sandbox`, {
    method: 'POST', headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signature }, body,
  }).then(async (r) => ({ status: r.status, body: await r.json() as any }));

  it('operators manage the catalog; the public list shows enabled gifts only', async () => {
    const created = await stack.call('POST', '/admin/gifts', { name: 'Rose', price: 10, icon_url: 'https://cdn.example/rose.png', animation_tier: 1 }, op);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    rose = created.body;
    rocket = (await stack.call('POST', '/admin/gifts', { name: 'Rocket', price: 200, animation_tier: 3, enabled: false, sort_order: 5 }, op)).body;
    assert.equal((await stack.call('POST', '/admin/gifts', { name: 'Sneaky', price: 1 }, viewer.token)).status, 403);
    assert.equal((await stack.call('POST', '/admin/gifts', { name: 'Free', price: 0 }, op)).status, 400);

    let list = (await stack.call('GET', '/gifts')).body.gifts;
    assert.deepEqual(list.map((g: any) => g.name), ['Rose']);
    assert.deepEqual(list[0], { id: rose.id, name: 'Rose', icon_url: 'https://cdn.example/rose.png', price: 10, animation_tier: 1, enabled: true, sort_order: 0 });
    const enabled = await stack.call('PATCH', `/admin/gifts/${rocket.id}`, { enabled: true }, op);
    assert.equal(enabled.status, 200);
    list = (await stack.call('GET', '/gifts')).body.gifts;
    assert.deepEqual(list.map((g: any) => g.name), ['Rose', 'Rocket']);
    assert.equal((await stack.call('GET', '/admin/gifts', undefined, op)).body.gifts.length, 2);
  });

  it('recharges through the sandbox: created -> paid once; redelivery, replays, forgeries and expired webhooks change nothing', async () => {
    assert.equal(await wallet(viewer.token), 0);
    const { order, paid } = await recharge(stack, viewer.token, 500);
    assert.equal(order.status, 'created');
    assert.equal(order.amount, 5000); // 10 minor units per coin
    assert.equal(paid.webhook.response.outcome, 'paid');
    assert.equal(await wallet(viewer.token), 500);
    const after1 = await stack.call('GET', `/wallet/recharges/${order.id}`, undefined, viewer.token);
    assert.equal(after1.body.status, 'paid');
    // Another user's order answers exactly as a missing one: ids are sequential, probing must tell nothing.
    const foreign = await stack.call('GET', `/wallet/recharges/${order.id}`, undefined, anchor.token);
    const missing = await stack.call('GET', '/wallet/recharges/999999999999', undefined, anchor.token);
    assert.equal(foreign.status, 404, "another user's order");
    assert.deepEqual(foreign.body, missing.body);
    assert.equal(missing.body.error.code, 'recharge_not_found');

    // The provider's retry: the same event signed anew is acknowledged, and credits nothing.
    const ref = order.provider_ref as string;
    const again = await stack.call('POST', `/payments/sandbox/${ref}/redeliver`);
    assert.equal(again.body.webhook.response_status, 200);
    assert.equal(again.body.webhook.response.outcome, 'duplicate');
    // A captured delivery sent again verbatim: refused as a replay.
    const replay = await postWebhook(paid.webhook.body, paid.webhook.signature);
    assert.equal(replay.status, 409);
    assert.equal(replay.body.error.code, 'webhook_replayed');
    assert.equal(await wallet(viewer.token), 500);

    // A second order, not paid: forged and expired deliveries about it must not pay it.
    const open = (await stack.call('POST', '/wallet/recharges', { coins: 1000 }, viewer.token)).body;
    const now = Math.floor(Date.now() / 1000);
    const body = JSON.stringify({
      id: 'evt_forged', type: 'payment.succeeded', created: now,
      data: { ref: open.provider_ref, merchant_order_id: open.id, amount: open.amount, currency: open.currency },
    });
    const wrongKey = await postWebhook(body, signWebhook('not-the-sandbox-key-at-all', body, now));
    assert.equal(wrongKey.status, 401);
    assert.equal(wrongKey.body.error.code, 'webhook_signature_invalid');
    const unsigned = await postWebhook(body, '');
    assert.equal(unsigned.status, 401);
    // A genuine signature over another body: the coins of a paid delivery moved to the open order.
    const tampered = await postWebhook(paid.webhook.body.replace(order.id, open.id), paid.webhook.signature);
    assert.equal(tampered.status, 401);
    const expired = await postWebhook(body, signWebhook(SANDBOX_SECRET, body, now - 600));
    assert.equal(expired.status, 400);
    assert.equal(expired.body.error.code, 'webhook_expired');
    const mismatch = JSON.stringify({ ...JSON.parse(body), data: { ...JSON.parse(body).data, amount: 1 } });
    const wrongAmount = await postWebhook(mismatch, signWebhook(SANDBOX_SECRET, mismatch, now));
    assert.equal(wrongAmount.status, 400);
    assert.equal(wrongAmount.body.error.code, 'webhook_order_mismatch');
    assert.equal((await stack.call('GET', `/wallet/recharges/${open.id}`, undefined, viewer.token)).body.status, 'created');
    assert.equal(await wallet(viewer.token), 500);

    const ledger = (await stack.call('GET', '/wallet/ledger', undefined, viewer.token)).body.entries;
    assert.deepEqual(ledger.map((e: any) => [e.kind, e.amount, e.balance_after, e.recharge_id]), [['recharge', 500, 500, order.id]]);
    assert.equal((await reconcile(viewer.id)).consistent, true);
  });

  it('sends gifts: charged once per client_order_id, never past the balance, with combos, the broadcast and the ranking', async () => {
    const send = (body: object, token = viewer.token, roomId = live.roomId) => stack.call('POST', `/rooms/${roomId}/gifts`, body, token);
    const first = await send({ gift_id: rose.id, count: 3, client_order_id: 'order-0001' });
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.equal(first.body.balance, 470);
    assert.equal(first.body.replayed, false);
    assert.deepEqual(
      { amount: first.body.order.amount, income: first.body.order.anchor_income, platform: first.body.order.platform_amount, session: first.body.order.session_id },
      { amount: 30, income: 21, platform: 9, session: live.sessionId },
    );
    assert.deepEqual(first.body.combo, { id: first.body.order.id, count: 3 });

    const retry = await send({ gift_id: rose.id, count: 3, client_order_id: 'order-0001' });
    assert.equal(retry.status, 200);
    assert.equal(retry.body.replayed, true);
    assert.equal(retry.body.order.id, first.body.order.id);
    assert.equal(retry.body.balance, 470);
    const reused = await send({ gift_id: rose.id, count: 4, client_order_id: 'order-0001' });
    assert.equal(reused.status, 409);
    assert.equal(reused.body.error.code, 'client_order_id_reused');

    // Within the combo window the same gift grows the same combo; another gift starts its own.
    const second = await send({ gift_id: rose.id, count: 2, client_order_id: 'order-0002' });
    assert.deepEqual(second.body.combo, { id: first.body.order.id, count: 5 });
    const big = await send({ gift_id: rocket.id, count: 1, client_order_id: 'order-0003' });
    assert.equal(big.status, 201);
    assert.deepEqual(big.body.combo, { id: big.body.order.id, count: 1 });
    assert.equal(big.body.balance, 250);

    const tooMuch = await send({ gift_id: rocket.id, count: 2, client_order_id: 'order-0004' });
    assert.equal(tooMuch.status, 409);
    assert.equal(tooMuch.body.error.code, 'insufficient_balance');
    assert.equal(await wallet(viewer.token), 250);
    assert.equal((await send({ gift_id: rose.id, count: 1, client_order_id: 'order-self-1' }, anchor.token)).body.error.code, 'self_gift');
    assert.equal((await send({ gift_id: '999999', count: 1, client_order_id: 'order-0005' })).status, 404);
    assert.equal((await send({ gift_id: rose.id, count: 0, client_order_id: 'order-0006' })).status, 400);
    assert.equal((await stack.call('POST', `/rooms/${live.roomId}/gifts`, { gift_id: rose.id, count: 1, client_order_id: 'order-0007' })).status, 401);
    const idle = await stack.call('POST', '/rooms', { title: 'nobody home' }, anchor.token);
    assert.equal((await send({ gift_id: rose.id, count: 1, client_order_id: 'order-0008' }, viewer.token, idle.body.id)).body.error.code, 'room_not_live');

    // The anchor earned 70% of 30 + 20 + 200 coins.
    assert.equal(await wallet(anchor.token), 21 + 14 + 140);
    assert.equal((await reconcile(viewer.id)).consistent, true);
    assert.equal((await reconcile(anchor.id)).consistent, true);

    const ranking = await stack.call('GET', `/rooms/${live.roomId}/gift-ranking`);
    assert.equal(ranking.status, 200);
    assert.equal(ranking.body.session_id, live.sessionId);
    assert.deepEqual(ranking.body.ranking.map((e: any) => [e.rank, e.user_id, e.amount]), [[1, viewer.id, 250]]);
    assert.ok(ranking.body.ranking[0].username);

    const mine = (await stack.call('GET', '/me/gift-orders?limit=2', undefined, viewer.token)).body;
    assert.deepEqual(mine.orders.map((o: any) => o.client_order_id), ['order-0003', 'order-0002']);
    assert.ok(mine.next_before);

    if (otherNode) {
      // Another control node subscribed to the room receives each send once, as the chat relays it.
      const gifts = await until('three gift broadcasts on the other node', () => {
        const g = received.map((d) => d.message as any).filter((m) => m.type === 'gift');
        return g.length >= 3 && g;
      }, 10_000);
      assert.deepEqual(gifts.map((m: any) => [m.v, m.order_id, m.count, m.combo.count, m.gift.name, m.sender.id]), [
        [1, first.body.order.id, 3, 3, 'Rose', viewer.id],
        [1, second.body.order.id, 2, 5, 'Rose', viewer.id],
        [1, big.body.order.id, 1, 1, 'Rocket', viewer.id],
      ]);
      assert.ok(received.every((d) => typeof d.id === 'string'), 'kept messages (a reconnecting chat client can resume)');
    }
  });

  it('operators adjust a wallet with a reason; a balance never goes below zero', async () => {
    const before = await wallet(viewer.token);
    const refused = await stack.call('POST', `/admin/wallets/${viewer.id}/adjust`, { amount: -(before + 1), reason: 'chargeback' }, op);
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error.code, 'insufficient_balance');
    assert.equal((await stack.call('POST', `/admin/wallets/${viewer.id}/adjust`, { amount: 50, reason: 'goodwill' }, viewer.token)).status, 403);
    const ok = await stack.call('POST', `/admin/wallets/${viewer.id}/adjust`, { amount: 50, reason: 'goodwill after an outage' }, op);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.balance, before + 50);
    const [entry] = (await stack.call('GET', '/wallet/ledger?limit=1', undefined, viewer.token)).body.entries;
    assert.deepEqual([entry.kind, entry.amount, entry.reason], ['adjustment', 50, 'goodwill after an outage']);
    assert.deepEqual(await reconcile(viewer.id), { user_id: viewer.id, balance: before + 50, ledger_sum: before + 50, ledger_entries: 5, consistent: true });
  });

  it('operators refund a gift send once: the sender gets it all back, the anchor gives back the income, never past their balance', async () => {
    const orders = (await stack.call('GET', '/me/gift-orders', undefined, viewer.token)).body.orders;
    const second = orders.find((o: any) => o.client_order_id === 'order-0002');
    const viewerBefore = await wallet(viewer.token);
    // The anchor paid most of it out: the refund of their 14 coins of income is not covered.
    assert.equal((await stack.call('POST', `/admin/wallets/${anchor.id}/adjust`, { amount: -170, reason: 'payout' }, op)).body.balance, 5);
    const uncovered = await stack.call('POST', `/admin/gift-orders/${second.id}/refund`, { reason: 'disputed' }, op);
    assert.equal(uncovered.status, 409);
    assert.equal(uncovered.body.error.code, 'refund_uncovered');
    assert.equal(await wallet(viewer.token), viewerBefore);
    await stack.call('POST', `/admin/wallets/${anchor.id}/adjust`, { amount: 170, reason: 'payout reversed' }, op);

    assert.equal((await stack.call('POST', `/admin/gift-orders/${second.id}/refund`, { reason: 'disputed' }, viewer.token)).status, 403);
    const refunded = await stack.call('POST', `/admin/gift-orders/${second.id}/refund`, { reason: 'disputed' }, op);
    assert.equal(refunded.status, 200, JSON.stringify(refunded.body));
    assert.equal(refunded.body.order.status, 'refunded');
    const again = await stack.call('POST', `/admin/gift-orders/${second.id}/refund`, { reason: 'disputed' }, op);
    assert.equal(again.body.error.code, 'order_already_refunded');
    assert.equal(await wallet(viewer.token), viewerBefore + 20);
    assert.equal(await wallet(anchor.token), 175 - 14);
    const [entry] = (await stack.call('GET', '/wallet/ledger?limit=1', undefined, viewer.token)).body.entries;
    assert.deepEqual([entry.kind, entry.amount, entry.order_id, entry.reason], ['refund', 20, second.id, 'disputed']);
    assert.equal((await reconcile(viewer.id)).consistent, true);
    assert.equal((await reconcile(anchor.id)).consistent, true);
    const ranking = (await stack.call('GET', `/rooms/${live.roomId}/gift-ranking`)).body.ranking;
    assert.deepEqual(ranking.map((e: any) => e.amount), [230]);
    // A wallet changed behind the ledger's back is what the audit exists to find.
    const audit = (await stack.call('GET', '/admin/wallets/audit', undefined, op)).body;
    assert.deepEqual([audit.checked, audit.consistent, audit.mismatches], [2, true, []]);
    assert.equal((await stack.call('GET', '/admin/wallets/audit', undefined, viewer.token)).status, 403);
  });

  it("settles the show with its real gift income, listed per show and per day", async () => {
    const close = await stack.call('POST', '/live/close', { room_id: live.roomId }, anchor.token);
    assert.equal(close.status, 200, JSON.stringify(close.body));
    const summary = await until('the settled summary', async () => {
      const s = await stack.call('GET', `/live/sessions/${live.sessionId}`, undefined, anchor.token);
      return s.body.statistics && s.body;
    }, 10_000, 100);
    assert.deepEqual(
      { amount: summary.statistics.gift_amount, income: summary.statistics.gift_income, gifts: summary.statistics.gift_count },
      { amount: 230, income: 161, gifts: 4 },
    );
    const perShow = (await stack.call('GET', '/me/income?group=session', undefined, anchor.token)).body;
    assert.deepEqual(perShow.sessions.map((s: any) => [s.session_id, s.room_id, s.income, s.amount, s.gifts, s.orders]), [[live.sessionId, live.roomId, 161, 230, 4, 2]]);
    const perDay = (await stack.call('GET', '/me/income?group=day', undefined, anchor.token)).body;
    assert.deepEqual(perDay.days.map((d: any) => [d.day, d.income]), [[new Date().toISOString().slice(0, 10), 161]]);
    assert.equal((await stack.call('GET', `/admin/anchors/${anchor.id}/income`, undefined, op)).body.sessions[0].income, 161);
    assert.equal((await stack.call('GET', `/admin/anchors/${anchor.id}/income`, undefined, anchor.token)).status, 403);
    // Unknown ids are 404, not an empty 200: a typo in the console or a ranking link says so.
    const noAnchor = await stack.call('GET', '/admin/anchors/999999999999/income', undefined, op);
    assert.equal(noAnchor.status, 404);
    assert.equal(noAnchor.body.error.code, 'anchor_not_found');
    const notAnchor = await stack.call('GET', `/admin/anchors/${viewer.id}/income`, undefined, op);
    assert.equal(notAnchor.status, 404, 'a viewer is no anchor');
    const noRoom = await stack.call('GET', '/rooms/999999999999/gift-ranking');
    assert.equal(noRoom.status, 404);
    assert.equal(noRoom.body.error.code, 'room_not_found');
    assert.equal((await stack.call('GET', '/me/income', undefined, viewer.token)).body.sessions.length, 0);
  });

  it('counts gift sends, coins and webhook outcomes on /metrics', async () => {
    const text = await (await fetch(`http://127.0.0.1:${stack.httpPort}/metrics`)).text();
    const value = (series: string) => Number(new RegExp(`^${series.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);
    assert.equal(value('onair_gift_sends_total{result="sent"}'), 3);
    assert.equal(value('onair_gift_sends_total{result="replayed"}'), 1);
    assert.equal(value('onair_gift_sends_total{result="insufficient"}'), 1);
    assert.equal(value('onair_gift_coins_total'), 250);
    assert.equal(value('onair_payment_webhooks_total{provider="sandbox",outcome="paid"}'), 1);
    assert.equal(value('onair_payment_webhooks_total{provider="sandbox",outcome="duplicate"}'), 1);
    assert.equal(value('onair_payment_webhooks_total{provider="sandbox",outcome="webhook_replayed"}'), 1);
    assert.equal(value('onair_payment_webhooks_total{provider="sandbox",outcome="webhook_signature_invalid"}'), 3);
    assert.equal(value('onair_payment_webhooks_total{provider="sandbox",outcome="webhook_expired"}'), 1);
    assert.equal(value('onair_payment_webhooks_total{provider="sandbox",outcome="webhook_order_mismatch"}'), 1);
  });

  it('finds a balance changed behind the ledger (what the audit is for)', async () => {
    // Stands for a bug or a hand-edited row: the balance moves without a ledger row.
    const db = await openDatabase({ url: databaseUrl, dataDir: stack.dataDir });
    try {
      await db.sequelize.query('UPDATE wallets SET balance = balance + 7 WHERE user_id = ?', { replacements: [viewer.id] });
    } finally {
      await db.close();
    }
    const audit = (await stack.call('GET', '/admin/wallets/audit', undefined, op)).body;
    assert.equal(audit.consistent, false);
    assert.deepEqual(audit.mismatches.map((m: any) => [m.user_id, m.balance - m.ledger_sum]), [[viewer.id, 7]]);
    assert.equal((await reconcile(viewer.id)).consistent, false);
  });
});

describe('money with the default settings (no payment provider)', () => {
  let stack: Stack;
  before(async () => { stack = await startStack({ ONAIR_RATE_LIMITS: 'off' }); });
  after(async () => { await stack?.close(); });

  it('refuses recharges and webhooks until a provider is configured', async () => {
    const viewer = await stack.user('viewer');
    const recharge = await stack.call('POST', '/wallet/recharges', { coins: 10 }, viewer.token);
    assert.equal(recharge.status, 503);
    assert.equal(recharge.body.error.code, 'payments_disabled');
    const webhook = await fetch(`${stack.api}/payments/webhook/sandbox`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(webhook.status, 404);
    assert.equal((await stack.call('POST', '/payments/sandbox/sbx_000000000000000000000000/pay')).status, 404, 'no sandbox checkout either');
    assert.deepEqual((await stack.call('GET', '/wallet', undefined, viewer.token)).body, { user_id: viewer.id, balance: 0 });
    assert.deepEqual((await stack.call('GET', '/gifts')).body, { gifts: [] });
  });
});
