/**
 * Every list of the personal center (seed 000 个人中心, issue 12 point 8) pages, and shows only the
 * caller's own data: watch history, income (anchors), fans, following, my rooms, wallet ledger,
 * recharge orders, gift orders. Lists take no user id (a strict query refuses one), another user's
 * single items answer as missing ones (404), operators' views of others are operator-only. Both adapter sets.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testAdapterSets } from '../../core/testing/test-ports.js';
import { makeKit, type Kit } from '../testing/control-kit.js';

type Auth = { Authorization: string };

for (const set of testAdapterSets()) {
  describe(`personal center lists on ${set.name}`, () => {
    let kit: Kit;
    let op: { id: string; auth: Auth };
    let anchor: { id: string; auth: Auth };
    let rooms: string[];
    let viewer: { id: string; auth: Auth };
    let other: { id: string; auth: Auth };
    before(async () => {
      kit = await makeKit(set, { payments: { provider: 'sandbox', sandboxSecret: 'sandbox-secret-of-the-me-tests' } });
      const base = await kit.listen();
      kit.ports.config.payments.notifyUrl = `${base}/api/v1/payments/webhook/sandbox`;
      op = await kit.operator();
      anchor = await kit.user('anchor');
      viewer = await kit.user('viewer');
      other = await kit.user('viewer');
      // Two rooms of one anchor, both live: two shows to watch and to earn from.
      rooms = [];
      for (const title of ['first', 'second']) {
        const room = (await kit.http.post('/api/v1/rooms').set(anchor.auth).send({ title }).expect(201)).body;
        const d = await kit.control.hooks.authorizePublish({ app: 'live', streamKey: room.stream_key, query: {}, clientIp: '127.0.0.1' });
        assert.ok(d.allow);
        await kit.control.liveSessions.markLive({ streamName: String(room.id), app: 'live', publisherId: `p${room.id}`, sessionId: d.sessionId, clientIp: '127.0.0.1', at: Date.now() });
        await kit.control.rooms.invalidate(String(room.id));
        rooms.push(String(room.id));
      }
      const gift = (await kit.http.post('/api/v1/admin/gifts').set(op.auth).send({ name: 'Rose', price: 10 }).expect(201)).body;
      await kit.http.post(`/api/v1/admin/wallets/${viewer.id}/adjust`).set(op.auth).send({ amount: 1000, reason: 'test coins' }).expect(200);
      for (const [i, roomId] of rooms.entries()) {
        await kit.http.post(`/api/v1/rooms/${roomId}/enter`).set(viewer.auth).expect(200);
        await kit.http.post(`/api/v1/rooms/${roomId}/exit`).set(viewer.auth).expect(200);
        await kit.http.post(`/api/v1/rooms/${roomId}/gifts`).set(viewer.auth).send({ gift_id: gift.id, count: 1, client_order_id: `me-${i}-${Date.now()}` }).expect(201);
        await kit.http.post(`/api/v1/rooms/${roomId}/follow`).set(viewer.auth).expect(200);
      }
      await kit.http.post(`/api/v1/rooms/${rooms[0]}/follow`).set(other.auth).expect(200);
      for (const coins of [5, 6]) await kit.http.post('/api/v1/wallet/recharges').set(viewer.auth).send({ coins }).expect(201);
    });
    after(async () => {
      await kit?.close();
    });

    const get = async (path: string, auth?: Auth) => {
      const req = kit.http.get(`/api/v1${path}`);
      return auth ? req.set(auth) : req;
    };

    it('watch history: the caller\'s viewings with watch time, paged by before', async () => {
      const first = (await get('/me/watch-history?limit=1', viewer.auth)).body;
      assert.equal(first.items.length, 1);
      assert.equal(first.items[0].room_id, rooms[1]);
      assert.ok(first.items[0].exited_at && typeof first.items[0].watch_s === 'number');
      const second = (await get(`/me/watch-history?limit=1&before=${first.next_before}`, viewer.auth)).body;
      assert.equal(second.items[0].room_id, rooms[0]);
      assert.equal((await get(`/me/watch-history?limit=1&before=${second.next_before}`, viewer.auth)).body.next_before, null);
      assert.deepEqual((await get('/me/watch-history', other.auth)).body.items, []);
      assert.equal((await get(`/me/watch-history?user_id=${viewer.id}`, other.auth)).status, 400);
      assert.equal((await get('/me/watch-history')).status, 401);
    });

    it('income per session (paged) and per day: the anchor\'s own; others\' only for operators', async () => {
      const page1 = (await get('/me/income?group=session&limit=1', anchor.auth)).body;
      assert.equal(page1.sessions.length, 1);
      assert.equal(page1.next_offset, 1);
      const page2 = (await get('/me/income?group=session&limit=1&offset=1', anchor.auth)).body;
      assert.equal(page2.sessions.length, 1);
      assert.notEqual(page2.sessions[0].session_id, page1.sessions[0].session_id);
      assert.equal((await get('/me/income?group=session&limit=1&offset=2', anchor.auth)).body.next_offset, null);
      const days = (await get('/me/income?group=day', anchor.auth)).body.days;
      assert.equal(days.reduce((n: number, d: any) => n + Number(d.income), 0), page1.sessions[0].income + page2.sessions[0].income);
      assert.deepEqual((await get('/me/income', viewer.auth)).body.sessions, []);
      assert.equal((await get(`/me/income?anchor_id=${anchor.id}`, viewer.auth)).status, 400);
      assert.equal((await get(`/admin/anchors/${anchor.id}/income`, viewer.auth)).status, 403);
      assert.equal((await get(`/admin/anchors/${anchor.id}/income`, op.auth)).body.sessions.length, 2);
    });

    it('income per day: a day that does not exist is a 400 that says so, not a 500', async () => {
      for (const q of ['from=2026-13-45', 'to=2026-00-10', 'from=2026-02-31', 'from=2026-1-1']) {
        const res = await get(`/me/income?group=day&${q}`, anchor.auth);
        assert.equal(res.status, 400, `${q}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error.code, 'invalid_request');
        assert.match(res.body.error.message, /YYYY-MM-DD/);
      }
      const days = (await get('/me/income?group=day&from=2020-02-29&to=2100-12-31', anchor.auth)).body.days;
      assert.ok(days.length >= 1);
    });

    it('fans, following and my rooms: paged by offset, the caller\'s own', async () => {
      const fans = (await get('/me/fans?limit=1', anchor.auth)).body;
      assert.deepEqual([fans.total, fans.fans.length, fans.next_offset], [2, 1, 1]);
      assert.equal((await get('/me/fans?limit=1&offset=1', anchor.auth)).body.next_offset, null);
      assert.equal((await get('/me/fans', viewer.auth)).body.total, 0);
      const following = (await get('/me/following', viewer.auth)).body;
      assert.deepEqual(following.following.map((f: any) => f.user_id), [anchor.id]);
      assert.deepEqual(following.following[0].rooms.map((r: any) => r.id).sort(), [...rooms].sort());
      assert.equal((await get('/me/following?limit=0', viewer.auth)).status, 400);
      const mine = (await get('/me/rooms?limit=1', anchor.auth)).body;
      assert.deepEqual([mine.total, mine.rooms.map((r: any) => r.id), mine.next_offset], [2, [rooms[0]], 1]);
      assert.deepEqual((await get('/me/rooms?limit=1&offset=1', anchor.auth)).body.rooms.map((r: any) => [r.id, r.is_live]), [[rooms[1], true]]);
      assert.deepEqual((await get('/me/rooms', viewer.auth)).body, { total: 0, rooms: [], next_offset: null });
      assert.equal((await get(`/me/rooms?owner_id=${anchor.id}`, viewer.auth)).status, 400);
    });

    it('wallet ledger, recharge orders and gift orders: paged by before; another user\'s order refused', async () => {
      const ledger = (await get('/wallet/ledger?limit=2', viewer.auth)).body;
      assert.equal(ledger.entries.length, 2);
      const rest = (await get(`/wallet/ledger?limit=2&before=${ledger.next_before}`, viewer.auth)).body;
      assert.deepEqual(rest.entries.map((e: any) => e.kind), ['adjustment']);
      assert.equal(rest.next_before, null);
      assert.deepEqual((await get('/wallet/ledger', other.auth)).body.entries, []);

      const recharges = (await get('/wallet/recharges?limit=1', viewer.auth)).body;
      assert.deepEqual(recharges.orders.map((o: any) => o.coins), [6]);
      assert.deepEqual((await get(`/wallet/recharges?limit=1&before=${recharges.next_before}`, viewer.auth)).body.orders.map((o: any) => o.coins), [5]);
      // Another user's order answers exactly as a missing one (sequential ids: probing tells nothing).
      const theirs = await get(`/wallet/recharges/${recharges.orders[0].id}`, other.auth);
      const missing = await get('/wallet/recharges/999999999999', other.auth);
      assert.equal(theirs.status, 404);
      assert.deepEqual(theirs.body, missing.body);
      assert.deepEqual((await get('/wallet/recharges', other.auth)).body.orders, []);

      const gifts = (await get('/me/gift-orders?limit=1', viewer.auth)).body;
      assert.equal(gifts.orders.length, 1);
      assert.equal((await get(`/me/gift-orders?limit=1&before=${gifts.next_before}`, viewer.auth)).body.orders.length, 1);
      assert.deepEqual((await get('/me/gift-orders', other.auth)).body.orders, []);
      assert.equal((await get(`/me/gift-orders?user_id=${viewer.id}`, other.auth)).status, 400);
    });

    it('keeps at most 5 unpaid recharge orders per user, however many requests race (each is a payment opened at the provider)', async () => {
      const user = await kit.user('viewer');
      const answers = await Promise.all(Array.from({ length: 20 }, () => kit.http.post('/api/v1/wallet/recharges').set(user.auth).send({ coins: 10 }).then((r) => r)));
      const created = answers.filter((a) => a.status === 201);
      assert.equal(created.length, 5, JSON.stringify(answers.map((a) => a.status)));
      for (const a of answers.filter((x) => x.status !== 201)) {
        assert.equal(a.status, 409);
        assert.equal(a.body.error.code, 'too_many_open_recharges');
      }
      assert.equal((await kit.http.get('/api/v1/wallet/recharges?limit=100').set(user.auth).expect(200)).body.orders.length, 5);
      // Paying one frees a place; another user is not concerned.
      await kit.http.post(`/api/v1/payments/sandbox/${created[0]!.body.provider_ref}/pay`).expect(200);
      await kit.http.post('/api/v1/wallet/recharges').set(user.auth).send({ coins: 10 }).expect(201);
      assert.equal((await kit.http.post('/api/v1/wallet/recharges').set(user.auth).send({ coins: 10 })).status, 409);
      const other = await kit.user('viewer');
      await kit.http.post('/api/v1/wallet/recharges').set(other.auth).send({ coins: 10 }).expect(201);
      // A provider that opens no payment (down): 503, and the failed attempts hold no place.
      const sandbox = kit.control.money.sandbox!;
      const createPayment = sandbox.createPayment.bind(sandbox);
      sandbox.createPayment = async () => { throw new Error('provider down'); };
      try {
        for (let i = 0; i < 6; i++) {
          const down = await kit.http.post('/api/v1/wallet/recharges').set(other.auth).send({ coins: 10 });
          assert.equal(down.status, 503, JSON.stringify(down.body));
          assert.equal(down.body.error.code, 'payment_provider_unavailable');
        }
      } finally {
        sandbox.createPayment = createPayment;
      }
      await kit.http.post('/api/v1/wallet/recharges').set(other.auth).send({ coins: 10 }).expect(201);
      assert.equal((await kit.http.get('/api/v1/wallet').set(user.auth).expect(200)).body.balance, 10);
    });

    it('an operator cannot mint coins into their own wallet (another operator can); an unknown user\'s wallet is a 404', async () => {
      const self = await kit.http.post(`/api/v1/admin/wallets/${op.id}/adjust`).set(op.auth).send({ amount: 1_000_000, reason: 'bonus for me' });
      assert.equal(self.status, 403);
      assert.equal(self.body.error.code, 'self_adjustment');
      assert.equal((await get('/wallet', op.auth)).body.balance, 0);
      const second = await kit.operator();
      assert.equal((await kit.http.post(`/api/v1/admin/wallets/${op.id}/adjust`).set(second.auth).send({ amount: 5, reason: 'goodwill' }).expect(200)).body.balance, 5);
      const unknown = await get('/admin/wallets/9999999999999', op.auth);
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.error.code, 'user_not_found');
      assert.equal((await get(`/admin/wallets/${viewer.id}`, op.auth)).body.consistent, true);
    });
  });
}
