import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testAdapterSets } from '../../core/testing/test-ports.js';
import { makeKit, type Kit } from '../testing/control-kit.js';

for (const set of testAdapterSets()) {
  describe(`operator API on ${set.name}`, () => {
    let kit: Kit;
    let op: Awaited<ReturnType<Kit['operator']>>;
    let rooms: Array<Awaited<ReturnType<Kit['anchorWithRoom']>>>;
    before(async () => {
      kit = await makeKit(set);
      op = await kit.operator();
      // Five rooms: #0 live, #1 pinned, #2 its owner banned from publishing, #3 key revoked, #4 idle.
      rooms = [];
      for (let i = 0; i < 5; i++) rooms.push(await kit.anchorWithRoom(`Show ${i} %_literal`));
      await kit.control.roomStore.update(rooms[0]!.roomId, { isLive: true });
      kit.media.publishing.add(rooms[0]!.roomId);
      await kit.http.post(`/api/v1/admin/rooms/${rooms[1]!.roomId}/pin`).set(op.auth).send({}).expect(200);
      await kit.http.post(`/api/v1/admin/users/${rooms[2]!.id}/publish-ban`).set(op.auth).send({ reason: 'spam' }).expect(201);
      await kit.http.post('/api/v1/admin/live/close').set(op.auth).send({ room_id: rooms[3]!.roomId, reason: 'rules' }).expect(200);
    });
    after(() => kit.close());

    const ids = (body: { rooms: Array<{ id: string }> }) => body.rooms.map((r) => r.id).sort();

    it('lists rooms by filter (live, pinned, banned, by anchor) with paging, pinned on top', async () => {
      const all = await kit.http.get('/api/v1/admin/rooms?filter=all&page_size=2').set(op.auth).expect(200);
      assert.equal(all.body.total, 5);
      assert.equal(all.body.rooms.length, 2);
      assert.equal(all.body.rooms[0].id, rooms[1]!.roomId, 'the pinned room comes first');
      const page3 = await kit.http.get('/api/v1/admin/rooms?page=3&page_size=2').set(op.auth).expect(200);
      assert.equal(page3.body.rooms.length, 1);
      assert.deepEqual(ids((await kit.http.get('/api/v1/admin/rooms?filter=live').set(op.auth).expect(200)).body), [rooms[0]!.roomId]);
      assert.deepEqual(ids((await kit.http.get('/api/v1/admin/rooms?filter=pinned').set(op.auth).expect(200)).body), [rooms[1]!.roomId]);
      assert.deepEqual(ids((await kit.http.get('/api/v1/admin/rooms?filter=banned').set(op.auth).expect(200)).body), [rooms[2]!.roomId, rooms[3]!.roomId].sort());
      const byAnchor = await kit.http.get(`/api/v1/admin/rooms?anchor_id=${rooms[4]!.id}`).set(op.auth).expect(200);
      assert.deepEqual(ids(byAnchor.body), [rooms[4]!.roomId]);
      // Search text is literal: % and _ match only themselves.
      assert.equal((await kit.http.get(`/api/v1/admin/rooms?q=${encodeURIComponent('%_literal')}`).set(op.auth).expect(200)).body.total, 5);
      assert.equal((await kit.http.get(`/api/v1/admin/rooms?q=${encodeURIComponent('%%')}`).set(op.auth).expect(200)).body.total, 0);
    });

    it('room detail: sessions, ingest from media, moderation history', async () => {
      const closed = await kit.http.get(`/api/v1/admin/rooms/${rooms[3]!.roomId}`).set(op.auth).expect(200);
      assert.equal(closed.body.stream_key_revoked, true);
      const live = await kit.http.get(`/api/v1/admin/rooms/${rooms[0]!.roomId}`).set(op.auth).expect(200);
      assert.equal(live.body.ingest.bitrate_kbps, 0);
      assert.ok(Array.isArray(live.body.sessions));
      const banned = await kit.http.get(`/api/v1/admin/rooms/${rooms[2]!.roomId}`).set(op.auth).expect(200);
      assert.equal(banned.body.owner_banned, true);
      assert.deepEqual(banned.body.moderation.map((m: { kind: string; reason: string }) => [m.kind, m.reason]), [['publish_ban', 'spam']]);
      await kit.http.get('/api/v1/admin/rooms/999999').set(op.auth).expect(404);
    });

    it('pins (discovery\'s API) show in the list and the filter', async () => {
      const room = rooms[4]!.roomId;
      await kit.http.post(`/api/v1/admin/rooms/${room}/pin`).set(op.auth).send({}).expect(200);
      assert.deepEqual(ids((await kit.http.get('/api/v1/admin/rooms?filter=pinned').set(op.auth).expect(200)).body), [rooms[1]!.roomId, room].sort());
      const unpinned = await kit.http.delete(`/api/v1/admin/rooms/${room}/pin`).set(op.auth).expect(200);
      assert.equal(unpinned.body.was_pinned, true);
      assert.deepEqual(ids((await kit.http.get('/api/v1/admin/rooms?filter=pinned').set(op.auth).expect(200)).body), [rooms[1]!.roomId]);
    });

    it('users: search, roles (an operator cannot demote themselves), publishing bans shown', async () => {
      const found = await kit.http.get(`/api/v1/admin/users?q=${encodeURIComponent(rooms[2]!.id)}`).set(op.auth).expect(200);
      assert.equal(found.body.users.find((u: { id: string }) => u.id === rooms[2]!.id)?.publish_banned, true);
      await kit.http.put(`/api/v1/admin/users/${rooms[4]!.id}/role`).set(op.auth).send({ role: 'viewer' }).expect(200);
      const viewers = await kit.http.get('/api/v1/admin/users?role=viewer').set(op.auth).expect(200);
      assert.ok(viewers.body.users.some((u: { id: string }) => u.id === rooms[4]!.id));
      const self = await kit.http.put(`/api/v1/admin/users/${op.id}/role`).set(op.auth).send({ role: 'viewer' }).expect(400);
      assert.equal(self.body.error.code, 'self_demotion');
      await kit.http.put('/api/v1/admin/users/999999/role').set(op.auth).send({ role: 'anchor' }).expect(404);
    });

    it('a role change holds against the tokens issued before it (a demoted operator is no operator)', async () => {
      const other = await kit.operator();
      await kit.http.get('/api/v1/admin/users').set(other.auth).expect(200);
      await kit.http.put(`/api/v1/admin/users/${other.id}/role`).set(op.auth).send({ role: 'viewer' }).expect(200);
      // The same token, issued while they were an operator: the role is the one the users table holds now.
      const refused = await kit.http.get('/api/v1/admin/users').set(other.auth).expect(403);
      assert.equal(refused.body.error.code, 'wrong_role');
      await kit.http.put(`/api/v1/admin/users/${op.id}/role`).set(other.auth).send({ role: 'viewer' }).expect(403);
      assert.equal((await kit.http.get('/api/v1/auth/me').set(other.auth).expect(200)).body.role, 'viewer');
      // An anchor made a viewer creates no room with their old token; promoted again, the same token works.
      const anchor = await kit.user('anchor');
      await kit.http.put(`/api/v1/admin/users/${anchor.id}/role`).set(op.auth).send({ role: 'viewer' }).expect(200);
      await kit.http.post('/api/v1/rooms').set(anchor.auth).send({ title: 'not any more' }).expect(403);
      await kit.http.put(`/api/v1/admin/users/${anchor.id}/role`).set(op.auth).send({ role: 'anchor' }).expect(200);
      await kit.http.post('/api/v1/rooms').set(anchor.auth).send({ title: 'again' }).expect(201);
    });

    it('conventions: operators write them, anyone reads the newest, history kept', async () => {
      assert.deepEqual((await kit.http.get('/api/v1/conventions').expect(200)).body, { body: null, updated_at: null });
      await kit.http.put('/api/v1/admin/conventions').set(op.auth).send({ body: 'v1' }).expect(200);
      await kit.http.put('/api/v1/admin/conventions').set(op.auth).send({ body: '文明发言，禁止广告。' }).expect(200);
      assert.equal((await kit.http.get('/api/v1/conventions').expect(200)).body.body, '文明发言，禁止广告。');
      assert.deepEqual((await kit.http.get('/api/v1/admin/conventions/history').set(op.auth).expect(200)).body.versions.map((v: { body: string }) => v.body), ['文明发言，禁止广告。', 'v1']);
      await kit.http.put('/api/v1/admin/conventions').set(op.auth).send({ body: '  ' }).expect(400);
    });

    it('audit verdicts: newest first, filtered by severity, room and anchor, paged', async () => {
      const insert = (i: number, severity: string, room: (typeof rooms)[number]) => kit.ports.db.sequelize.query(
        `INSERT INTO live_audit_logs (identity, room_id, anchor_id, session_id, stream_name, kind, suggestion, label, score, severity, action, evidence_url, created_at)
         VALUES (:identity, :room, :anchor, NULL, :room, 'image', 'block', 'porn', 97, :severity, :action, 'https://evidence.example/1.jpg', :at)`,
        { replacements: { identity: `audit-${i}`, room: room.roomId, anchor: room.id, severity, action: severity === 'severe' ? 'paused_pending_ban' : 'warning', at: 1_700_000_000_000 + i } },
      );
      await insert(1, 'light', rooms[0]!);
      await insert(2, 'severe', rooms[1]!);
      await insert(3, 'light', rooms[1]!);
      const all = await kit.http.get('/api/v1/admin/audits?page_size=2').set(op.auth).expect(200);
      assert.equal(all.body.total, 3);
      assert.deepEqual(all.body.audits.map((a: { severity: string }) => a.severity), ['light', 'severe']);
      assert.equal(all.body.audits[1].action, 'paused_pending_ban');
      assert.equal(all.body.audits[1].created_at, new Date(1_700_000_000_002).toISOString());
      const severe = await kit.http.get('/api/v1/admin/audits?severity=severe').set(op.auth).expect(200);
      assert.deepEqual(severe.body.audits.map((a: { room_id: string }) => a.room_id), [rooms[1]!.roomId]);
      assert.equal((await kit.http.get(`/api/v1/admin/audits?anchor_id=${rooms[0]!.id}`).set(op.auth).expect(200)).body.total, 1);
      assert.equal((await kit.http.get(`/api/v1/admin/audits?room_id=${rooms[1]!.roomId}`).set(op.auth).expect(200)).body.total, 2);
      await kit.http.get('/api/v1/admin/audits').set(rooms[0]!.auth).expect(403);
    });

    it('overview and wall: media figures for live rooms', async () => {
      const overview = await kit.http.get('/api/v1/admin/overview').set(op.auth).expect(200);
      assert.equal(overview.body.streams, 1);
      assert.equal(overview.body.dead_letters, 0);
      assert.equal(typeof overview.body.callback_backlog, 'number', 'control/main.ts wires the callbacks group\'s backlog');
      assert.ok(overview.body.memory_rss_bytes > 0);
      const wall = await kit.http.get('/api/v1/admin/wall').set(op.auth).expect(200);
      assert.deepEqual(wall.body.rooms.map((r: { room_id: string }) => r.room_id), [rooms[0]!.roomId]);
      assert.equal(wall.body.rooms[0].frame_url, `/live/${rooms[0]!.roomId}/frame.jpg`);
    });

    it('only operators; /site and /me/rooms for the pages', async () => {
      const anchor = rooms[0]!;
      for (const path of ['/admin/rooms', '/admin/users', '/admin/overview', '/admin/wall']) {
        await kit.http.get(`/api/v1${path}`).expect(401);
        await kit.http.get(`/api/v1${path}`).set(anchor.auth).expect(403);
      }
      const site = await kit.http.get('/api/v1/site').expect(200);
      assert.equal(site.body.rtmp_server, `rtmp://127.0.0.1:${kit.ports.config.rtmp.port}/${kit.ports.config.rtmp.app}`);
      const mine = await kit.http.get('/api/v1/me/studio/rooms').set(anchor.auth).expect(200);
      assert.deepEqual(mine.body.rooms.map((r: { id: string }) => r.id), [anchor.roomId]);
      assert.ok(!JSON.stringify(mine.body).includes(anchor.streamKey), 'the list never carries the key');
      assert.notEqual(mine.body.rooms[0].ingest, null, 'media carries this room: its figures come along');
      const revoked = await kit.http.get('/api/v1/me/studio/rooms').set(rooms[3]!.auth).expect(200);
      assert.equal(revoked.body.rooms[0].stream_key_revoked, true);
      assert.equal(revoked.body.rooms[0].ingest, null);
    });
  });
}
