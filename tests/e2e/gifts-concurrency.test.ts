/**
 * 100 concurrent gift sends from one user (plus 20 retries of them with the same client_order_id,
 * sent to the other node) against a balance that covers 33: on SQLite one stack, on MariaDB + Redis
 * two control stacks sharing the database. Exactly 33 orders are charged, none twice, the balance
 * never goes below zero and ends equal to its ledger.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { missingTool } from '../../core/testing/tools.js';
import { stackAdapterSets, startStack, type Stack } from './onair-stack.js';
import { liveRoom, moneyEnv, operatorToken } from './gifts-kit.js';

const skip = missingTool('ffmpeg');
const SENDS = 100;
const RETRIES = 20;
const PRICE = 30;
const COINS = 1000; // covers 33 sends of 30, leaves 10

for (const set of stackAdapterSets()) describe(`concurrent gift sends on ${set.name}`, { skip }, () => {
  const nodes: Stack[] = [];
  let cleanup: () => Promise<void>;
  let live: Awaited<ReturnType<typeof liveRoom>>;
  const pushers: Array<{ kill(signal?: NodeJS.Signals): boolean }> = [];

  before(async () => {
    const adapters = await set.env();
    cleanup = adapters.cleanup;
    // Two control nodes need one secret (a token from one is valid on the other), as a deployment shares ONAIR_SECRET.
    const env = { ...moneyEnv, ...adapters.env, ONAIR_SECRET: 'shared-secret-of-the-concurrency-test' };
    nodes.push(await startStack(env));
    if (adapters.env.ONAIR_DATABASE_URL) nodes.push(await startStack(env));
  });
  after(async () => {
    live?.pusher.kill('SIGKILL');
    for (const p of pushers) p.kill('SIGKILL');
    for (const n of nodes) await n.close();
    await cleanup?.();
  });

  it(`charges exactly what the balance covers, once per client_order_id, across ${set.name === 'embedded' ? 'one node' : 'two nodes'}`, async () => {
    const [a] = nodes;
    const b = nodes[1] ?? a!;
    const op = await operatorToken(a!);
    const anchor = await a!.user('anchor');
    const viewer = await a!.user('viewer');
    live = await liveRoom(a!, anchor);
    const gift = (await a!.call('POST', '/admin/gifts', { name: 'Heart', price: PRICE }, op)).body;
    assert.equal((await b.call('POST', `/admin/wallets/${viewer.id}/adjust`, { amount: COINS, reason: 'test coins' }, op)).status, 200);

    const send = (node: Stack, clientOrderId: string) =>
      node.call('POST', `/rooms/${live.roomId}/gifts`, { gift_id: gift.id, count: 1, client_order_id: clientOrderId }, viewer.token);
    const ids = Array.from({ length: SENDS }, (_, i) => `burst-${String(i).padStart(4, '0')}`);
    const started = Date.now();
    const answers = await Promise.all([
      ...ids.map((id, i) => send(i % 2 ? b : a!, id).then((r) => ({ id, ...r }))),
      // Retries of the first 20, on the node the original did not go to, at the same moment.
      ...ids.slice(0, RETRIES).map((id, i) => send(i % 2 ? a! : b, id).then((r) => ({ id, ...r }))),
    ]);
    const elapsed = Date.now() - started;

    const unexpected = answers.filter((r) => ![200, 201, 409].includes(r.status) || (r.status === 409 && r.body.error.code !== 'insufficient_balance'));
    assert.deepEqual(unexpected, [], 'every answer is a send, a replay or insufficient_balance');
    const charged = new Map<string, string>(); // client_order_id -> order id
    for (const r of answers.filter((x) => x.status === 200 || x.status === 201)) {
      const seen = charged.get(r.id);
      if (seen) assert.equal(r.body.order.id, seen, `one order per client_order_id (${r.id})`);
      charged.set(r.id, r.body.order.id);
      assert.ok(r.body.balance >= 0);
    }
    const expected = Math.floor(COINS / PRICE);
    assert.equal(charged.size, expected, `${expected} sends charged`);
    assert.equal(answers.filter((r) => r.status === 201).length, expected, 'each charged once (the rest of a pair is a replay or refused)');

    for (const node of nodes) assert.equal((await node.call('GET', '/wallet', undefined, viewer.token)).body.balance, COINS - expected * PRICE);
    const check = (await b.call('GET', `/admin/wallets/${viewer.id}`, undefined, op)).body;
    assert.deepEqual(check, { user_id: viewer.id, balance: COINS - expected * PRICE, ledger_sum: COINS - expected * PRICE, ledger_entries: 1 + expected, consistent: true });
    const anchorCheck = (await a!.call('GET', `/admin/wallets/${anchor.id}`, undefined, op)).body;
    assert.equal(anchorCheck.balance, expected * (PRICE - Math.floor(PRICE * 0.3)));
    assert.equal(anchorCheck.consistent, true);
    const orders = (await a!.call('GET', '/me/gift-orders?limit=100', undefined, viewer.token)).body.orders;
    assert.equal(orders.length, expected);
    assert.deepEqual(new Set(orders.map((o: any) => o.id)), new Set(charged.values()));
    const ranking = (await b.call('GET', `/rooms/${live.roomId}/gift-ranking`)).body.ranking;
    assert.deepEqual(ranking.map((e: any) => [e.user_id, e.amount]), [[viewer.id, expected * PRICE]]);
    const audit = (await a!.call('GET', '/admin/wallets/audit', undefined, op)).body;
    assert.deepEqual(audit, { checked: 2, consistent: true, mismatches: [] }, 'every wallet equals its ledger');
    console.log(`# ${set.name}: ${answers.length} concurrent sends on ${nodes.length} node(s) answered in ${elapsed} ms; ${expected} charged`);
  });

  it('lets two anchors gift each other at the same moment (wallets locked in id order: no deadlock, nothing lost)', async () => {
    const [a] = nodes;
    const b = nodes[1] ?? a!;
    const op = await operatorToken(a!);
    const gift = (await a!.call('POST', '/admin/gifts', { name: 'Clap', price: 10 }, op)).body;
    const x = await a!.user('anchor');
    const y = await a!.user('anchor');
    const roomX = await liveRoom(a!, x);
    const roomY = await liveRoom(a!, y);
    pushers.push(roomX.pusher, roomY.pusher);
    for (const u of [x, y]) await a!.call('POST', `/admin/wallets/${u.id}/adjust`, { amount: 1000, reason: 'test coins' }, op);
    const EACH = 40;
    const answers = await Promise.all(Array.from({ length: EACH * 2 }, (_, i) => {
      const [from, to] = i % 2 ? [x, roomY] : [y, roomX];
      return (i % 4 < 2 ? a! : b).call('POST', `/rooms/${to.roomId}/gifts`, { gift_id: gift.id, count: 1, client_order_id: `cross-${i}-0000` }, from.token);
    }));
    assert.deepEqual(answers.filter((r) => r.status !== 201).map((r) => [r.status, r.body]), [], 'every send went through');
    // Each spent 40 x 10 and earned 40 x 7.
    for (const u of [x, y]) {
      const check = (await b.call('GET', `/admin/wallets/${u.id}`, undefined, op)).body;
      assert.deepEqual([check.balance, check.consistent], [1000 - EACH * 10 + EACH * 7, true]);
    }
  });

  it("charges the price read inside the send: a price change racing sends, and a send with the price shown that changed is 409 price_changed, nothing charged", async () => {
    const [a] = nodes;
    const b = nodes[1] ?? a!;
    const op = await operatorToken(a!);
    const anchor = await a!.user('anchor');
    const viewer = await a!.user('viewer');
    const room = await liveRoom(a!, anchor);
    pushers.push(room.pusher);
    const gift = (await a!.call('POST', '/admin/gifts', { name: 'Comet', price: 20 }, op)).body;
    await a!.call('POST', `/admin/wallets/${viewer.id}/adjust`, { amount: 10_000, reason: 'test coins' }, op);
    const send = (node: Stack, body: Record<string, unknown>) =>
      node.call('POST', `/rooms/${room.roomId}/gifts`, { gift_id: gift.id, count: 1, ...body }, viewer.token);

    // The price shown (20) is the current one: charged 20.
    const first = await send(a!, { client_order_id: 'price-shown-0001', price: 20 });
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.deepEqual([first.body.order.unit_price, first.body.order.amount], [20, 20]);
    // The operator raises it; a send still showing 20 is refused with the current price, nothing charged.
    assert.equal((await a!.call('PATCH', `/admin/gifts/${gift.id}`, { price: 25 }, op)).status, 200);
    const stale = await send(b, { client_order_id: 'price-shown-0002', price: 20 });
    assert.equal(stale.status, 409, JSON.stringify(stale.body));
    assert.deepEqual([stale.body.error.code, stale.body.price, stale.body.gift_id], ['price_changed', 25, gift.id]);
    assert.equal((await a!.call('GET', '/wallet', undefined, viewer.token)).body.balance, 10_000 - 20);
    // Unknown keys are still refused; without a price the current one is charged (older clients).
    assert.equal((await send(a!, { client_order_id: 'price-shown-0003', price: 25, extra: 1 })).status, 400);
    assert.equal((await send(a!, { client_order_id: 'price-shown-0004' })).body.order.unit_price, 25);

    // Sends showing 25 racing changes 25 -> 30 -> 25 ...: each is charged 25 (and records it), or refused
    // with the price it met; never charged a price the sender was not shown, and the ledger agrees.
    const answers = await Promise.all([
      ...Array.from({ length: 40 }, (_, i) => send(i % 2 ? b : a!, { client_order_id: `price-race-${String(i).padStart(4, '0')}`, price: 25 })),
      ...Array.from({ length: 6 }, (_, i) => a!.call('PATCH', `/admin/gifts/${gift.id}`, { price: i % 2 ? 25 : 30 }, op)),
    ]);
    const sends = answers.slice(0, 40);
    assert.deepEqual(answers.slice(40).map((r) => r.status), [200, 200, 200, 200, 200, 200]);
    for (const r of sends) {
      if (r.status === 201) assert.deepEqual([r.body.order.unit_price, r.body.order.amount], [25, 25]);
      else assert.deepEqual([r.status, r.body.error.code, r.body.price], [409, 'price_changed', 30], JSON.stringify(r.body));
    }
    const charged = sends.filter((r) => r.status === 201).length;
    const check = (await b.call('GET', `/admin/wallets/${viewer.id}`, undefined, op)).body;
    assert.deepEqual([check.balance, check.consistent], [10_000 - 20 - 25 - charged * 25, true]);
    const orders = (await a!.call('GET', '/me/gift-orders?limit=100', undefined, viewer.token)).body.orders;
    assert.equal(orders.length, 2 + charged);
  });
});
