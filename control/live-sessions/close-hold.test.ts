/**
 * An anchor ends the show from the studio (POST /live/close) while OBS still runs: OBS's automatic
 * reconnect must not start a new show. Through the publish hook as a media server calls it (SRS's
 * on_publish with the key in the query, OBS-style: no /live/start): after the close the reconnect
 * is refused with `show_ended_by_anchor` for ONAIR_LIVE_CLOSE_HOLD, no session is created; the
 * studio's go-live (POST /live/start) lifts the hold at once; after the hold the key publishes again
 * (an OBS-only anchor is never held: they never call /live/close, their show ends by stream cut).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { testAdapterSets } from '../../core/testing/test-ports.js';
import { waitFor } from '../../core/testing/wait-for.js';
import { makeKit, type Kit } from '../testing/control-kit.js';

const SECRET = 'hook-secret-0123456789abcdef';
const HOLD_MS = 2500;

for (const set of testAdapterSets()) {
  describe(`the hold after the anchor ends the show on ${set.name}`, () => {
    let kit: Kit;
    before(async () => {
      kit = await makeKit(set, { hooks: { secret: SECRET }, live: { closeHold: HOLD_MS } });
    });
    after(async () => {
      await kit?.close();
    });

    /** OBS (re)connecting: SRS asks control's on_publish hook with the stream key in the query. */
    const obsPublish = (a: { roomId: string; streamKey: string }) => kit.http.post(`/api/v1/hook/on_publish?secret=${SECRET}`).send({
      server_id: 'vid-1', action: 'on_publish', client_id: `c-${a.roomId}`, ip: '10.0.0.5', vhost: '__defaultVhost__', app: 'live',
      tcUrl: 'rtmp://127.0.0.1/live', stream: a.roomId, param: `?key=${a.streamKey}`,
    });
    const unpublish = (a: { roomId: string }) => kit.http.post(`/api/v1/hook/on_unpublish?secret=${SECRET}`).send({
      server_id: 'vid-1', action: 'on_unpublish', client_id: `c-${a.roomId}`, ip: '10.0.0.5', vhost: '__defaultVhost__', app: 'live', tcUrl: 'rtmp://127.0.0.1/live', stream: a.roomId,
    });
    const active = (roomId: string) => kit.control.sessionStore.findActiveByRoom(roomId);
    const goLiveFromObs = async (a: { roomId: string; streamKey: string }) => {
      const ok = await obsPublish(a);
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      await waitFor('live', async () => (await active(a.roomId))?.status === 'live', 10_000);
      return ok.body.data.session_id as string;
    };

    it('refuses OBS\'s reconnect after /live/close with show_ended_by_anchor, until the studio goes live again', async () => {
      const a = await kit.anchorWithRoom('Held show');
      const first = await goLiveFromObs(a);
      const closed = await kit.http.post('/api/v1/live/close').set(a.auth).send({ room_id: a.roomId }).expect(200);
      assert.equal(closed.body.session_id, first);
      await unpublish(a).expect(200); // the kick drops OBS
      // OBS reconnects (again and again): refused with a reason the anchor can read, no new show.
      for (let i = 0; i < 3; i++) {
        const again = await obsPublish(a);
        assert.equal(again.status, 403);
        assert.equal(again.body.error.message, 'show_ended_by_anchor');
      }
      assert.equal(await active(a.roomId), null, 'no new session');
      assert.equal((await kit.http.get(`/api/v1/rooms/${a.roomId}`).expect(200)).body.is_live, false);

      // The studio's go-live lifts the hold: the same OBS publish starts the new show.
      const start = await kit.http.post('/api/v1/live/start').set(a.auth).send({ room_id: a.roomId }).expect(200);
      const second = await goLiveFromObs(a);
      assert.equal(second, start.body.session_id);
      assert.notEqual(second, first);
    });

    it('ends with the hold: the key alone publishes again after it, and other rooms and closes are never held', async () => {
      const a = await kit.anchorWithRoom('Short hold');
      const b = await kit.anchorWithRoom('Never closed');
      await goLiveFromObs(a);
      await kit.http.post('/api/v1/live/close').set(a.auth).send({ room_id: a.roomId }).expect(200);
      const closedAt = Date.now();
      assert.equal((await obsPublish(a)).status, 403);
      // Another anchor's room is not held.
      await goLiveFromObs(b);
      // An OBS drop (no /live/close) puts no hold: the reconnect within the grace continues the show.
      await unpublish(b).expect(200);
      await waitFor('b in grace', () => kit.control.liveSessions.inGrace(b.roomId), 10_000);
      assert.equal((await obsPublish(b)).status, 200, 'a reconnect within the grace continues the show');
      // After the hold the key alone publishes again (a new show).
      await new Promise((r) => setTimeout(r, Math.max(0, closedAt + HOLD_MS + 200 - Date.now())));
      await goLiveFromObs(a);
    });
  });
}
