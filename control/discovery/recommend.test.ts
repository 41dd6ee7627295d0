/**
 * The hot ranking of GET /rooms/recommended against cheap manipulation (the outside-tester sweep):
 * likes cost nothing, so one account liking at the budget's pace must not lift a room nobody
 * watches above rooms people watch. Both adapter sets.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cacheKeys } from '../../core/cache/keys.js';
import { testAdapterSets } from '../../core/testing/test-ports.js';
import { makeKit, type Kit } from '../testing/control-kit.js';
import { hotScore } from './recommend.service.js';

for (const set of testAdapterSets()) {
  describe(`hot ranking against like farming on ${set.name}`, () => {
    let kit: Kit;
    before(async () => {
      kit = await makeKit(set);
    });
    after(async () => {
      await kit?.close();
    });

    const liveRoom = async () => {
      const anchor = await kit.anchorWithRoom();
      const d = await kit.control.hooks.authorizePublish({ app: 'live', streamKey: anchor.streamKey, query: {}, clientIp: '127.0.0.1' });
      assert.ok(d.allow);
      await kit.control.liveSessions.markLive({ streamName: anchor.roomId, app: 'live', publisherId: `p${anchor.roomId}`, sessionId: d.sessionId, clientIp: '127.0.0.1', at: Date.now() });
      await kit.control.rooms.invalidate(anchor.roomId);
      return { roomId: anchor.roomId, sessionId: d.sessionId! };
    };

    it('a room nobody watches, liked 60,000 times by one script (10 minutes at the like budget), stays below a room with viewers', async () => {
      const farmed = await liveRoom();
      const watched = await liveRoom();
      // 40 people watch one room; the other has nobody but a script that liked it as fast as allowed.
      await kit.ports.cache.set(cacheKeys.roomOnlineCount(watched.roomId), '40', 60_000);
      const liker = await kit.user('viewer');
      await kit.http.post(`/api/v1/rooms/${farmed.roomId}/like`).set(liker.auth).send({ count: 100 }).expect(200);
      await kit.ports.db.sequelize.query('UPDATE live_session_counters SET likes = 60000 WHERE session_id = ?', { replacements: [farmed.sessionId] });
      await kit.ports.cache.del(cacheKeys.hotRooms());
      const rooms = (await kit.http.get('/api/v1/rooms/recommended').expect(200)).body.rooms as Array<{ id: string; hot_score: number }>;
      const order = rooms.filter((r) => r.id === farmed.roomId || r.id === watched.roomId);
      assert.deepEqual(order.map((r) => r.id), [watched.roomId, farmed.roomId], JSON.stringify(order));
      assert.equal(order[0]!.hot_score, 40);
      assert.equal(order[1]!.hot_score, 1, 'likes lift a room by its audience plus one at most');
    });

    it('likes still count up to the audience', () => {
      assert.equal(hotScore({ viewers: 0, giftCoins: 0, likes: 50 }), 0.5);
      assert.equal(hotScore({ viewers: 10, giftCoins: 100, likes: 500 }), 10 + 10 + 5);
      assert.equal(hotScore({ viewers: 10, giftCoins: 0, likes: 1_000_000 }), 10 + 11);
    });
  });
}
