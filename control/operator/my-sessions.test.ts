import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testAdapterSets } from '../../core/testing/test-ports.js';
import { runInTransaction } from '../../core/event-bus/db-transaction.js';
import { ReplayStore } from '../../core/replays/replay.store.js';
import { segmentObjectKeys } from '../../core/replays/replay.js';
import { insertOrder } from '../gifts/gift-orders.js';
import { makeKit, type Kit } from '../testing/control-kit.js';

/** The studio's "my sessions": GET /me/sessions, the anchor's ended shows per room, paged, with figures, income and replay. */
for (const set of testAdapterSets()) {
  describe(`my sessions (GET /me/sessions) on ${set.name}`, () => {
    let kit: Kit;
    before(async () => {
      kit = await makeKit(set);
    });
    after(() => kit.close());

    /** A show on the room as the engine would run it: publish authorised, live, then (unless `live`) ended by the anchor. */
    async function show(room: { roomId: string; streamKey: string }, live = false): Promise<string> {
      const c = kit.control;
      const d = await c.hooks.authorizePublish({ app: 'live', streamKey: room.streamKey, query: {}, clientIp: '127.0.0.1' });
      assert.ok(d.allow, d.allow ? '' : d.reason);
      await c.liveSessions.markLive({ streamName: room.roomId, app: 'live', publisherId: 'p', sessionId: d.sessionId, clientIp: '127.0.0.1', at: Date.now() });
      if (!live) await c.liveSessions.endSession(d.sessionId!, 1, 'anchor closed');
      return d.sessionId!;
    }

    it('lists ended shows newest first with viewers, watch time, income and the replay; per room; paged; own rooms only', async () => {
      const a = await kit.anchorWithRoom('Room A');
      const roomB = await kit.http.post('/api/v1/rooms').set(a.auth).send({ title: 'Room B' }).expect(201);
      const b = { roomId: String(roomB.body.id), streamKey: roomB.body.stream_key as string };
      const first = await show(a);
      const second = await show(a);
      const inB = await show(b);
      const db = kit.ports.db;
      // Two viewings of the first show (one signed in, one anonymous), 10 min and 5 min.
      const t0 = new Date(Date.now() - 3600_000);
      for (const [user, watch] of [[a.id, 600], [null, 300]] as const) {
        await db.sequelize.query('INSERT INTO live_audience (session_id, room_id, user_id, viewer_key, enter_at, exit_at, watch_s) VALUES (?, ?, ?, NULL, ?, ?, ?)',
          { replacements: [first, a.roomId, user, t0, new Date(t0.getTime() + watch * 1000), watch] });
      }
      // Gifts during the second show: 3 roses, 21 coins to the anchor (one refunded order does not count).
      const viewer = await kit.user('viewer');
      await runInTransaction(db, async (tx) => {
        for (const [status, count, income] of [['paid', 2, 14], ['paid', 1, 7], ['refunded', 5, 35]] as const) {
          await insertOrder(tx, {
            userId: viewer.id, roomId: a.roomId, giftId: '1', count, unitPrice: 10, amount: count * 10, anchorId: a.id, sessionId: second,
            anchorIncome: income, platformAmount: count * 10 - income, status, clientOrderId: `o-${second}-${status}-${count}`, createdAt: Date.now(),
          } as never);
        }
      });
      // The first show was recorded.
      const key = segmentObjectKeys(a.roomId, 'p', 0).video;
      const { replay } = await new ReplayStore(db).addSegment({
        sourceEventId: `ev-${first}`, roomId: a.roomId, sessionId: first, publisherId: 'p', segment: 0, objectKey: key, posterKey: null,
        durationMs: 60_000, size: 1000, md5: 'x', videoCodec: 'h264', audioCodec: 'aac', width: 640, height: 360,
        startedAt: Date.now() - 120_000, endedAt: Date.now() - 60_000, final: true,
      }, (id) => `/api/v1/replays/${id}`);
      await show(a, true); // live now: not a past session

      const all = await kit.http.get('/api/v1/me/sessions').set(a.auth).expect(200);
      assert.equal(all.body.total, 3);
      assert.deepEqual(all.body.sessions.map((s: { session_id: string }) => s.session_id), [inB, second, first]);
      const byId = new Map(all.body.sessions.map((s: { session_id: string }) => [s.session_id, s]));
      const f = byId.get(first) as Record<string, any>;
      assert.equal(f.room_id, a.roomId);
      assert.equal(f.room_title, 'Room A');
      assert.ok(f.start_at && f.end_at && f.duration_s !== null, JSON.stringify(f));
      assert.equal(f.unique_viewers, 2);
      assert.equal(f.watch_s, 900);
      assert.equal(f.income, 0);
      assert.deepEqual(f.replay, { id: replay.id, url: `/watch/${a.roomId}?replay=${replay.id}`, api_url: `/api/v1/replays/${replay.id}` });
      assert.equal(f.summary_url, `/studio#session=${first}`);
      const s2 = byId.get(second) as Record<string, any>;
      assert.deepEqual([s2.income, s2.gifts, s2.replay, s2.unique_viewers], [21, 3, null, 0]);

      const onlyA = await kit.http.get(`/api/v1/me/sessions?room_id=${a.roomId}&limit=1`).set(a.auth).expect(200);
      assert.equal(onlyA.body.total, 2);
      assert.deepEqual(onlyA.body.sessions.map((s: { session_id: string }) => s.session_id), [second]);
      assert.equal(onlyA.body.next_offset, 1);
      const page2 = await kit.http.get(`/api/v1/me/sessions?room_id=${a.roomId}&limit=1&offset=1`).set(a.auth).expect(200);
      assert.deepEqual(page2.body.sessions.map((s: { session_id: string }) => s.session_id), [first]);
      assert.equal(page2.body.next_offset, null);

      // Someone else's room is not theirs to list; nobody's shows leak to another anchor.
      const other = await kit.anchorWithRoom('Other');
      assert.equal((await kit.http.get(`/api/v1/me/sessions?room_id=${a.roomId}`).set(other.auth).expect(404)).body.error.code, 'room_not_found');
      assert.equal((await kit.http.get('/api/v1/me/sessions').set(other.auth).expect(200)).body.total, 0);
      await kit.http.get('/api/v1/me/sessions').expect(401);
      await kit.http.get('/api/v1/me/sessions?limit=0').set(a.auth).expect(400);
      await kit.http.get('/api/v1/me/sessions?room_id=abc').set(a.auth).expect(400);
    });
  });
}
