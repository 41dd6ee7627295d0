import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testAdapterSets } from '../../core/testing/test-ports.js';
import { makeKit, type Kit } from '../testing/control-kit.js';

for (const set of testAdapterSets()) {
  describe(`media server hooks on ${set.name}`, () => {
    let kit: Kit;
    before(async () => {
      kit = await makeKit(set);
    });
    after(async () => {
      await kit.close();
    });

    const srs = (action: string, extra: Record<string, unknown>) => ({
      server_id: 'vid-1', action, client_id: 'c1', ip: '10.0.0.5', vhost: '__defaultVhost__', app: 'live', tcUrl: 'rtmp://127.0.0.1/live', ...extra,
    });

    it('SRS: publish by room id with ?key= allowed (200, code 0 with the public name) and live; wrong key refused (403); unpublish starts the grace', async () => {
      const a = await kit.anchorWithRoom();
      const ok = await kit.http.post('/api/v1/hook/on_publish').send(srs('on_publish', { stream: a.roomId, param: `?key=${a.streamKey}` })).expect(200);
      assert.equal(ok.body.code, 0);
      assert.equal(ok.body.data.stream_name, a.roomId);
      assert.equal(typeof ok.body.data.record, 'boolean');
      assert.ok(ok.body.data.session_id);
      const session = await kit.control.sessionStore.findActiveByRoom(a.roomId);
      assert.equal(session?.status, 'live');
      const b = await kit.anchorWithRoom();
      await kit.http.post('/api/v1/hook/on_publish').send(srs('on_publish', { stream: b.roomId, param: `?key=${a.streamKey}` })).expect(403);
      await kit.http.post('/api/v1/hook/on_publish').send(srs('on_publish', { stream: b.roomId, param: '?key=sk_nope' })).expect(403);
      await kit.http.post('/api/v1/hook/on_publish').send(srs('on_publish', { stream: b.roomId })).expect(403);
      const gone = await kit.http.post('/api/v1/hook/on_unpublish').send(srs('on_unpublish', { stream: a.roomId })).expect(200);
      assert.equal(gone.text, '0');
      assert.equal(kit.control.liveSessions.inGrace(a.roomId), true);
    });

    it('SRS: play with a valid token allowed, without or with a forged token refused', async () => {
      const a = await kit.anchorWithRoom();
      await kit.http.post('/api/v1/hook/on_publish').send(srs('on_publish', { stream: a.roomId, param: `?key=${a.streamKey}` })).expect(200);
      const { token } = (await kit.http.get(`/api/v1/rooms/${a.roomId}/play-token`).expect(200)).body;
      const ok = await kit.http.post('/api/v1/hook/on_play').send(srs('on_play', { stream: a.roomId, param: `?token=${encodeURIComponent(token)}` })).expect(200);
      assert.equal(ok.text, '0');
      await kit.http.post('/api/v1/hook/on_play').send(srs('on_play', { stream: a.roomId, param: '' })).expect(403);
      await kit.http.post('/api/v1/hook/on_play').send(srs('on_play', { stream: a.roomId, param: '?token=AAAA' })).expect(403);
      await kit.http.post('/api/v1/hook/on_play').send(srs('on_play', { stream: a.roomId, param: `?token=${a.streamKey}` })).expect(403);
      await kit.http.post('/api/v1/hook/on_stop').send(srs('on_stop', { stream: a.roomId })).expect(200);
      await kit.http.post('/api/v1/hook/on_dvr').send(srs('on_dvr', { stream: a.roomId, file: './objs/nginx/html/live/1.flv' })).expect(200);
    });

    it('nginx-rtmp: form bodies; the key as name is allowed (2xx) or renamed to the room id (302 with rename=1)', async () => {
      const a = await kit.anchorWithRoom();
      const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
      const base = { app: 'live', flashver: 'FMLE/3.0', swfurl: '', tcurl: 'rtmp://127.0.0.1/live', pageurl: '', addr: '10.0.0.6', clientid: '7' };
      await kit.http.post('/api/v1/hook/on_publish').type('form').send(form({ ...base, call: 'publish', name: 'sk_wrong', type: 'live' })).expect(403);
      const ok = await kit.http.post('/api/v1/hook/on_publish').type('form').send(form({ ...base, call: 'publish', name: a.streamKey, type: 'live' })).expect(200);
      assert.equal(ok.text, '');
      await kit.http.post('/api/v1/hook/on_unpublish').type('form').send(form({ ...base, call: 'publish_done', name: a.streamKey })).expect(200);
      assert.equal(kit.control.liveSessions.inGrace(a.roomId), true);
      // Reconnect within the grace, this time asking for the rename: 302 Location = room id.
      const renamed = await kit.http.post('/api/v1/hook/on_publish?rename=1').type('form')
        .send(form({ ...base, clientid: '8', call: 'publish', name: a.streamKey, type: 'live' })).expect(302);
      assert.equal(renamed.headers.location, a.roomId);
      assert.equal(kit.control.liveSessions.inGrace(a.roomId), false);
      // Query arguments of the publish URL arrive as form fields: a bad txSecret is refused.
      const b = await kit.anchorWithRoom();
      await kit.http.post('/api/v1/hook/on_publish').type('form')
        .send(form({ ...base, call: 'publish', name: b.streamKey, txSecret: '0'.repeat(32), txTime: 'FFFFFFFF' })).expect(403);
      // Play: the token comes as a form field.
      const { token } = (await kit.http.get(`/api/v1/rooms/${a.roomId}/play-token`).expect(200)).body;
      await kit.http.post('/api/v1/hook/on_play').type('form').send(form({ ...base, call: 'play', name: a.roomId, token })).expect(200);
      await kit.http.post('/api/v1/hook/on_play').type('form').send(form({ ...base, call: 'play', name: a.roomId })).expect(403);
      await kit.http.post('/api/v1/hook/on_stop').type('form').send(form({ ...base, call: 'play_done', name: a.roomId })).expect(200);
    });

    it('malformed hook bodies get 400, never a crash', async () => {
      await kit.http.post('/api/v1/hook/on_publish').send({ nothing: true }).expect(400);
      await kit.http.post('/api/v1/hook/on_publish').send({ app: 'live', stream: 'x'.repeat(5000) }).expect(400);
      await kit.http.post('/api/v1/hook/on_publish').type('form').send('call=publish').expect(400);
      await kit.http.post('/api/v1/hook/on_publish').set('Content-Type', 'application/json').send('{oops').expect(400);
      await kit.http.post('/api/v1/hook/on_play').send({ app: ['live'], stream: {} }).expect(400);
    });
  });
}
