import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cacheKeys } from '../../core/cache/keys.js';
import { testAdapterSets } from '../../core/testing/test-ports.js';
import { looksLikeStreamKey } from '../../core/tokens/stream-key.js';
import { makeKit, type Kit } from '../testing/control-kit.js';

const publish = (streamKey: string) => ({ app: 'live', streamKey, query: {}, clientIp: '127.0.0.1' });

for (const set of testAdapterSets()) {
  describe(`rooms API on ${set.name}`, () => {
    let kit: Kit;
    before(async () => {
      kit = await makeKit(set);
    });
    after(async () => {
      await kit.close();
    });

    it('an anchor creates a room and gets its secret key and push URL', async () => {
      const anchor = await kit.user('anchor');
      const res = await kit.http.post('/api/v1/rooms').set(anchor.auth).send({ title: 'Launch', cover_url: 'https://img.example/c.jpg', record: true }).expect(201);
      assert.match(res.body.id, /^\d+$/);
      assert.ok(looksLikeStreamKey(res.body.stream_key));
      const { port, app } = kit.ports.config.rtmp;
      assert.equal(res.body.push_url, `rtmp://127.0.0.1:${port}/${app}/${res.body.stream_key}`);
      assert.equal(res.body.server_url, `rtmp://127.0.0.1:${port}/${app}`);
      assert.equal(res.body.record, true);
    });

    it('GET /rooms/{id} is public, never shows the key, and is cached for 30 min', async () => {
      const a = await kit.anchorWithRoom('Public');
      const res = await kit.http.get(`/api/v1/rooms/${a.roomId}`).expect(200);
      assert.equal(res.body.title, 'Public');
      assert.equal(res.body.is_live, false);
      assert.equal(res.body.play, null);
      assert.equal(res.body.owner.id, a.id);
      assert.ok(!JSON.stringify(res.body).includes(a.streamKey));
      const cached = await kit.ports.cache.get(cacheKeys.roomInfo(a.roomId));
      assert.ok(cached && !cached.includes(a.streamKey));
      const ttl = await kit.ports.cache.ttl(cacheKeys.roomInfo(a.roomId));
      assert.ok(ttl > 29 * 60_000 && ttl <= 30 * 60_000, `ttl ${ttl}`);
      await kit.http.get('/api/v1/rooms/999999').expect(404);
      const bad = await kit.http.get('/api/v1/rooms/abc').expect(400);
      assert.equal(bad.body.error.code, 'invalid_request');
    });

    it('PATCH: owner only, validated, and the cache is invalidated', async () => {
      const a = await kit.anchorWithRoom('Before');
      await kit.http.get(`/api/v1/rooms/${a.roomId}`).expect(200); // warm the cache
      const res = await kit.http.patch(`/api/v1/rooms/${a.roomId}`).set(a.auth).send({ title: 'After', record: true }).expect(200);
      assert.equal(res.body.title, 'After');
      assert.equal(res.body.record, true);
      assert.equal((await kit.http.get(`/api/v1/rooms/${a.roomId}`).expect(200)).body.title, 'After');
      const other = await kit.user('anchor');
      const denied = await kit.http.patch(`/api/v1/rooms/${a.roomId}`).set(other.auth).send({ title: 'Hijack' }).expect(403);
      assert.equal(denied.body.error.code, 'not_owner');
      await kit.http.patch(`/api/v1/rooms/${a.roomId}`).set(a.auth).send({}).expect(400);
      await kit.http.patch(`/api/v1/rooms/${a.roomId}`).set(a.auth).send({ title: 'x', stream_key: 'sk_mine' }).expect(400);
      await kit.http.patch(`/api/v1/rooms/${a.roomId}`).set(a.auth).send({ cover_url: 'javascript:alert(1)' }).expect(400);
      await kit.http.patch(`/api/v1/rooms/${a.roomId}`).set(a.auth).send({ title: 5 }).expect(400);
    });

    it('stream key: only the owner reads it; rotation refuses the old key at once', async () => {
      const a = await kit.anchorWithRoom();
      const got = await kit.http.get(`/api/v1/rooms/${a.roomId}/stream-key`).set(a.auth).expect(200);
      assert.equal(got.body.stream_key, a.streamKey);
      const other = await kit.user('anchor');
      await kit.http.get(`/api/v1/rooms/${a.roomId}/stream-key`).set(other.auth).expect(403);
      await kit.http.get(`/api/v1/rooms/${a.roomId}/stream-key`).expect(401);

      const rotated = await kit.http.post(`/api/v1/rooms/${a.roomId}/stream-key/rotate`).set(a.auth).expect(200);
      assert.notEqual(rotated.body.stream_key, a.streamKey);
      assert.ok(rotated.body.push_url.endsWith(rotated.body.stream_key));
      assert.deepEqual(await kit.control.hooks.authorizePublish(publish(a.streamKey)), { allow: false, reason: 'unknown_key' });
      const ok = await kit.control.hooks.authorizePublish(publish(rotated.body.stream_key));
      assert.equal(ok.allow, true);
      assert.ok(kit.media.kickedPublishers.includes(a.roomId), 'a publisher on the old key is kicked');
      await kit.http.post(`/api/v1/rooms/${a.roomId}/stream-key/rotate`).set(other.auth).expect(403);
    });

    it('GET /rooms/{id} tells the live show\'s likes and shares (a new viewer sees the total before anyone likes again); null when not live', async () => {
      const a = await kit.anchorWithRoom('Liked');
      let view = (await kit.http.get(`/api/v1/rooms/${a.roomId}`).expect(200)).body;
      assert.equal(view.likes, null);
      assert.equal(view.shares, null);
      const decision = await kit.control.hooks.authorizePublish(publish(a.streamKey));
      assert.ok(decision.allow);
      await kit.control.liveSessions.markLive({ streamName: a.roomId, app: 'live', publisherId: 'pl', sessionId: decision.sessionId, clientIp: '127.0.0.1', at: Date.now() });
      view = (await kit.http.get(`/api/v1/rooms/${a.roomId}`).expect(200)).body;
      assert.equal(view.is_live, true);
      assert.equal(view.likes, 0);
      assert.equal(view.shares, 0);
      const fan = await kit.user('viewer');
      await kit.http.post(`/api/v1/rooms/${a.roomId}/like`).set(fan.auth).send({ count: 7 }).expect(200);
      await kit.http.post(`/api/v1/rooms/${a.roomId}/share`).set(fan.auth).send({}).expect(200);
      // Read live, not from the cached view.
      view = (await kit.http.get(`/api/v1/rooms/${a.roomId}`).expect(200)).body;
      assert.equal(view.likes, 7);
      assert.equal(view.shares, 1);
      // The list is not given a read per room.
      const listed = (await kit.http.get('/api/v1/rooms').expect(200)).body.rooms.find((r: { id: string }) => r.id === a.roomId);
      assert.ok(listed && !('likes' in listed));
    });

    it('lists live rooms from set:live:online checked against the database', async () => {
      const a = await kit.anchorWithRoom('Live one');
      const b = await kit.anchorWithRoom('Idle one');
      const decision = await kit.control.hooks.authorizePublish(publish(a.streamKey));
      assert.ok(decision.allow);
      await kit.control.liveSessions.markLive({ streamName: a.roomId, app: 'live', publisherId: 'p1', sessionId: decision.sessionId, clientIp: '127.0.0.1', at: Date.now() });
      await kit.ports.cache.sAdd(cacheKeys.liveOnline(), b.roomId); // a stale member is filtered out
      const res = await kit.http.get('/api/v1/rooms?live=1').expect(200);
      const ids = res.body.rooms.map((r: { id: string }) => r.id);
      assert.ok(ids.includes(a.roomId));
      assert.ok(!ids.includes(b.roomId));
      const live = res.body.rooms.find((r: { id: string }) => r.id === a.roomId);
      assert.equal(live.is_live, true);
      assert.equal(live.session_id, decision.sessionId);
      assert.ok(live.play.flv_url.endsWith(`/live/${a.roomId}.flv`), 'play URLs by room id, no token');
      assert.equal(live.play.token_url, `/api/v1/rooms/${a.roomId}/play-token`);
      await kit.http.get('/api/v1/rooms?live=1&evil=1').expect(400);
    });
  });
}
