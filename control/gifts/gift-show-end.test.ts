/**
 * Gifts and the end of a show (the outside-tester sweep): a send racing the show's close is either
 * refused (409 room_not_live, nothing charged) or counted by the show's settlement, never charged
 * and left out of it; a refund after the show was settled takes the order out of the summary the
 * anchor reads. Both adapter sets.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { QueryTypes } from 'sequelize';
import type { PubSub } from '../../core/pubsub/index.js';
import { silentLogger } from '../../core/logging/logger.js';
import { testAdapterSets } from '../../core/testing/test-ports.js';
import { CloseMethod } from '../live-sessions/live-session.js';
import { makeKit, type Kit } from '../testing/control-kit.js';
import { GiftCatalogStore } from './gift-catalog.store.js';
import { GiftSendService } from './gift-send.service.js';

type Auth = { Authorization: string };

for (const set of testAdapterSets()) {
  describe(`gifts and the end of a show on ${set.name}`, () => {
    let kit: Kit;
    let op: { id: string; auth: Auth };
    let giftId: string;
    before(async () => {
      kit = await makeKit(set);
      op = await kit.operator();
      giftId = (await kit.http.post('/api/v1/admin/gifts').set(op.auth).send({ name: 'Star', price: 10 }).expect(201)).body.id;
    });
    after(async () => {
      await kit?.close();
    });

    const liveShow = async () => {
      const anchor = await kit.anchorWithRoom();
      const d = await kit.control.hooks.authorizePublish({ app: 'live', streamKey: anchor.streamKey, query: {}, clientIp: '127.0.0.1' });
      assert.ok(d.allow);
      await kit.control.liveSessions.markLive({ streamName: anchor.roomId, app: 'live', publisherId: `p${anchor.roomId}`, sessionId: d.sessionId, clientIp: '127.0.0.1', at: Date.now() });
      await kit.control.rooms.invalidate(anchor.roomId);
      return { anchor, sessionId: d.sessionId! };
    };
    const funded = async (coins: number) => {
      const user = await kit.user('viewer');
      await kit.http.post(`/api/v1/admin/wallets/${user.id}/adjust`).set(op.auth).send({ amount: coins, reason: 'test coins' }).expect(200);
      return user;
    };
    const balance = async (auth: Auth) => (await kit.http.get('/api/v1/wallet').set(auth).expect(200)).body.balance as number;
    const paidOrders = async (sessionId: string) => {
      const [row] = await kit.ports.db.sequelize.query<{ amount: string | number | null; n: string | number }>(
        "SELECT SUM(amount) AS amount, COUNT(*) AS n FROM orders WHERE session_id = ? AND status = 'paid'", { replacements: [sessionId], type: QueryTypes.SELECT },
      );
      return { amount: Number(row?.amount ?? 0), orders: Number(row?.n ?? 0) };
    };

    it('a send that read the show as live but reaches the wallet after its end is refused, nothing charged', async () => {
      const { anchor, sessionId } = await liveShow();
      const sender = await funded(100);
      await kit.control.liveSessions.endSession(sessionId, CloseMethod.anchor, 'good night');
      await kit.control.settlement.idle();
      // The send's first look at the room happened before the end (a request in flight at the close).
      const stale = new GiftSendService({
        db: kit.ports.db, catalog: new GiftCatalogStore(kit.ports.db), rooms: kit.control.roomStore,
        sessions: { findActiveByRoom: async () => ({ id: sessionId, status: 'live' }) },
        cache: kit.ports.cache, pubsub: { publishKept: async () => undefined } as unknown as PubSub,
        platformShareBps: 3000, comboWindowMs: 5000, log: silentLogger(),
      });
      await assert.rejects(
        stale.send({ id: sender.id, username: sender.username, role: 'viewer' } as never, anchor.roomId, { giftId, count: 2, clientOrderId: `late-${Date.now()}` }),
        (err: { code?: string }) => err.code === 'room_not_live',
      );
      assert.equal(await balance(sender.auth), 100, 'nothing charged after the show ended');
      assert.deepEqual(await paidOrders(sessionId), { amount: 0, orders: 0 });
      const summary = (await kit.http.get(`/api/v1/live/sessions/${sessionId}`).set(anchor.auth).expect(200)).body.statistics;
      assert.equal(summary.gift_amount, 0);
    });

    it('sends racing the close: every charged gift is in the settled summary', async () => {
      const { anchor, sessionId } = await liveShow();
      const senders = await Promise.all(Array.from({ length: 8 }, () => funded(1000)));
      const sends = Array.from({ length: 48 }, (_, i) => kit.http.post(`/api/v1/rooms/${anchor.roomId}/gifts`).set(senders[i % senders.length]!.auth)
        .send({ gift_id: giftId, count: 1, client_order_id: `race-${Date.now()}-${i}` }).then((r) => r));
      await new Promise((r) => setTimeout(r, 20));
      await kit.control.liveSessions.endSession(sessionId, CloseMethod.anchor, 'good night');
      const answers = await Promise.all(sends);
      for (const a of answers) assert.ok(a.status === 201 || (a.status === 409 && a.body.error.code === 'room_not_live'), `${a.status} ${JSON.stringify(a.body)}`);
      const charged = answers.filter((a) => a.status === 201).length;
      await kit.control.settlement.idle();
      const spent = (await Promise.all(senders.map((s) => balance(s.auth)))).reduce((n, b) => n + (1000 - b), 0);
      assert.equal(spent, charged * 10);
      assert.deepEqual(await paidOrders(sessionId), { amount: charged * 10, orders: charged });
      const summary = (await kit.http.get(`/api/v1/live/sessions/${sessionId}`).set(anchor.auth).expect(200)).body.statistics;
      assert.equal(summary.gift_amount, charged * 10, 'the settlement counts every gift charged in the show');
      assert.equal(summary.gift_count, charged);
    });

    it('a refund after the show was settled takes the order out of the summary (as out of the income and ranking)', async () => {
      const { anchor, sessionId } = await liveShow();
      const sender = await funded(100);
      const sent = (await kit.http.post(`/api/v1/rooms/${anchor.roomId}/gifts`).set(sender.auth).send({ gift_id: giftId, count: 3, client_order_id: `settled-${Date.now()}` }).expect(201)).body;
      const kept = (await kit.http.post(`/api/v1/rooms/${anchor.roomId}/gifts`).set(sender.auth).send({ gift_id: giftId, count: 1, client_order_id: `kept-${Date.now()}` }).expect(201)).body;
      await kit.control.liveSessions.endSession(sessionId, CloseMethod.anchor, 'good night');
      await kit.control.settlement.idle();
      const summary = async () => (await kit.http.get(`/api/v1/live/sessions/${sessionId}`).set(anchor.auth).expect(200)).body.statistics;
      assert.deepEqual([(await summary()).gift_amount, (await summary()).gift_income, (await summary()).gift_count], [40, 28, 4]);
      await kit.http.post(`/api/v1/admin/gift-orders/${sent.order.id}/refund`).set(op.auth).send({ reason: 'disputed charge' }).expect(200);
      const after = await summary();
      assert.deepEqual([after.gift_amount, after.gift_income, after.gift_count], [10, kept.order.anchor_income, 1], 'the refunded order left the settled summary');
      const income = (await kit.http.get('/api/v1/me/income').set(anchor.auth).expect(200)).body.sessions.find((x: { session_id: string }) => x.session_id === sessionId);
      assert.equal(income.income, after.gift_income, 'the summary and the income agree');
    });
  });
}
