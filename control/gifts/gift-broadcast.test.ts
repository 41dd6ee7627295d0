/**
 * A gift sent through one control node reaches a chat socket on another node (issue 12, "Done
 * when"), with its combo growing on a repeat, on both adapter sets: SQLite + the in-process pub/sub
 * hub, MariaDB + Redis pub/sub (two control nodes sharing the database and Redis).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { testAdapterSets } from '../../core/testing/test-ports.js';
import { ChatClient, makeChatKit, type ChatKit } from '../testing/chat-kit.js';

for (const set of testAdapterSets()) {
  describe(`gift broadcast across control nodes on ${set.name}`, () => {
    let kit: ChatKit;
    before(async () => {
      kit = await makeChatKit(set, { chat: { rate: 'off' } }, 2);
    });
    after(async () => {
      await kit?.close();
    });

    it('a gift sent on node A reaches a chat socket on node B, a repeat grows one combo, the ranking counts both', async () => {
      const [a, b] = kit.nodes;
      const op = await kit.operator();
      const { roomId, sessionId } = await kit.liveRoom();
      const sender = await kit.user();
      const watcher = await kit.user();
      const gift = (await request(a!.control.app).post('/api/v1/admin/gifts').set(op.auth).send({ name: 'Rocket', price: 50, animation_tier: 3 }).expect(201)).body;
      await request(a!.control.app).post(`/api/v1/admin/wallets/${sender.id}/adjust`).set(op.auth).send({ amount: 500, reason: 'test coins' }).expect(200);
      const chat = await ChatClient.connect(`${b!.ws}/ws/live/${sessionId}?token=${watcher.token}`);
      await chat.next((m) => m.type === 'welcome');

      const first = (await request(a!.control.app).post(`/api/v1/rooms/${roomId}/gifts`).set(sender.auth).send({ gift_id: gift.id, count: 2, client_order_id: `bcast-1-${Date.now()}` }).expect(201)).body;
      const seen = await chat.next((m) => m.type === 'gift', 'the gift on node B');
      assert.equal(seen.room_id, roomId);
      assert.equal(seen.session_id, sessionId);
      assert.equal(seen.order_id, first.order.id);
      assert.deepEqual([seen.sender.id, seen.gift.name, seen.count, seen.amount], [sender.id, 'Rocket', 2, 100]);
      assert.deepEqual(seen.combo, { id: first.order.id, count: 2 });

      await request(a!.control.app).post(`/api/v1/rooms/${roomId}/gifts`).set(sender.auth).send({ gift_id: gift.id, count: 1, client_order_id: `bcast-2-${Date.now()}` }).expect(201);
      const combo = await chat.next((m) => m.type === 'gift' && m.order_id !== first.order.id, 'the repeat');
      assert.deepEqual(combo.combo, { id: first.order.id, count: 3 });
      const ranking = (await request(b!.control.app).get(`/api/v1/rooms/${roomId}/gift-ranking`).expect(200)).body.ranking;
      assert.deepEqual(ranking.map((r: any) => [r.user_id, r.amount]), [[sender.id, 150]]);
      assert.equal((await request(b!.control.app).get('/api/v1/wallet').set(sender.auth).expect(200)).body.balance, 350);
      chat.close();
    });

    it('a user the anchor blacklisted or kicked sends no gift into the room (the gift line would reach its chat)', async () => {
      const [a] = kit.nodes;
      const op = await kit.operator();
      const { roomId, anchor } = await kit.liveRoom();
      const troll = await kit.user();
      const kicked = await kit.user();
      const gift = (await request(a!.control.app).post('/api/v1/admin/gifts').set(op.auth).send({ name: 'Rose', price: 1 }).expect(201)).body;
      for (const u of [troll, kicked]) await request(a!.control.app).post(`/api/v1/admin/wallets/${u.id}/adjust`).set(op.auth).send({ amount: 10, reason: 'test coins' }).expect(200);
      await request(a!.control.app).post(`/api/v1/rooms/${roomId}/blacklist`).set(anchor.auth).send({ user_id: troll.id }).expect(200);
      await request(a!.control.app).post(`/api/v1/rooms/${roomId}/kick`).set(anchor.auth).send({ user_id: kicked.id }).expect(200);
      const refused = await request(a!.control.app).post(`/api/v1/rooms/${roomId}/gifts`).set(troll.auth).send({ gift_id: gift.id, count: 1, client_order_id: `bl-${Date.now()}` }).expect(403);
      assert.equal(refused.body.error.code, 'blacklisted');
      const out = await request(a!.control.app).post(`/api/v1/rooms/${roomId}/gifts`).set(kicked.auth).send({ gift_id: gift.id, count: 1, client_order_id: `kk-${Date.now()}` }).expect(403);
      assert.equal(out.body.error.code, 'kicked');
      assert.equal((await request(a!.control.app).get('/api/v1/wallet').set(troll.auth).expect(200)).body.balance, 10, 'nothing charged');
    });
  });
}
