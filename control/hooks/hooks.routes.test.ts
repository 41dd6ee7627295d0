import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testAdapterSets } from '../../core/testing/test-ports.js';
import { waitFor } from '../../core/testing/wait-for.js';
import { mediaHookSecret } from '../../core/callbacks/hook-secret.js';
import { makeKit, type Kit } from '../testing/control-kit.js';

const SECRET = 'hook-secret-0123456789abcdef';
/** A hook URL as SRS or nginx-rtmp is configured with it: the secret in the query. */
const hook = (name: string, query = '') => `/api/v1/hook/${name}?secret=${SECRET}${query}`;

for (const set of testAdapterSets()) {
  describe(`media server hooks on ${set.name}`, () => {
    let kit: Kit;
    before(async () => {
      kit = await makeKit(set, { hooks: { secret: SECRET } });
    });
    after(async () => {
      await kit.close();
    });

    const srs = (action: string, extra: Record<string, unknown>) => ({
      server_id: 'vid-1', action, client_id: 'c1', ip: '10.0.0.5', vhost: '__defaultVhost__', app: 'live', tcUrl: 'rtmp://127.0.0.1/live', ...extra,
    });

    it('SRS: publish by room id with ?key= allowed (200, code 0 with the public name) and live; wrong key refused (403); unpublish starts the grace', async () => {
      const a = await kit.anchorWithRoom();
      const ok = await kit.http.post(hook('on_publish')).send(srs('on_publish', { stream: a.roomId, param: `?key=${a.streamKey}` })).expect(200);
      assert.equal(ok.body.code, 0);
      assert.equal(ok.body.data.stream_name, a.roomId);
      assert.equal(typeof ok.body.data.record, 'boolean');
      assert.ok(ok.body.data.session_id);
      // The allowed hook is the publish's start: a stream.published event, handled from the bus.
      await waitFor('live', async () => (await kit.control.sessionStore.findActiveByRoom(a.roomId))?.status === 'live', 10_000);
      const b = await kit.anchorWithRoom();
      await kit.http.post(hook('on_publish')).send(srs('on_publish', { stream: b.roomId, param: `?key=${a.streamKey}` })).expect(403);
      await kit.http.post(hook('on_publish')).send(srs('on_publish', { stream: b.roomId, param: '?key=sk_nope' })).expect(403);
      await kit.http.post(hook('on_publish')).send(srs('on_publish', { stream: b.roomId })).expect(403);
      const gone = await kit.http.post(hook('on_unpublish')).send(srs('on_unpublish', { stream: a.roomId })).expect(200);
      assert.equal(gone.text, '0');
      await waitFor('grace', () => kit.control.liveSessions.inGrace(a.roomId), 10_000);
    });

    it('SRS: play with a valid token allowed, without or with a forged token refused', async () => {
      const a = await kit.anchorWithRoom();
      await kit.http.post(hook('on_publish')).send(srs('on_publish', { stream: a.roomId, param: `?key=${a.streamKey}` })).expect(200);
      await waitFor('live', async () => (await kit.control.sessionStore.findActiveByRoom(a.roomId))?.status === 'live', 10_000);
      const { token } = (await kit.http.get(`/api/v1/rooms/${a.roomId}/play-token`).expect(200)).body;
      const ok = await kit.http.post(hook('on_play')).send(srs('on_play', { stream: a.roomId, param: `?token=${encodeURIComponent(token)}` })).expect(200);
      assert.equal(ok.text, '0');
      await kit.http.post(hook('on_play')).send(srs('on_play', { stream: a.roomId, param: '' })).expect(403);
      await kit.http.post(hook('on_play')).send(srs('on_play', { stream: a.roomId, param: '?token=AAAA' })).expect(403);
      await kit.http.post(hook('on_play')).send(srs('on_play', { stream: a.roomId, param: `?token=${a.streamKey}` })).expect(403);
      await kit.http.post(hook('on_stop')).send(srs('on_stop', { stream: a.roomId })).expect(200);
      // SRS's default relative dvr path is not inside onair's recordings directory: refused (see below).
      await kit.http.post(hook('on_dvr')).send(srs('on_dvr', { stream: a.roomId, file: './objs/nginx/html/live/1.flv' })).expect(400);
    });

    it('nginx-rtmp: form bodies; the key as name is allowed (2xx) or renamed to the room id (302 with rename=1)', async () => {
      const a = await kit.anchorWithRoom();
      const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
      const base = { app: 'live', flashver: 'FMLE/3.0', swfurl: '', tcurl: 'rtmp://127.0.0.1/live', pageurl: '', addr: '10.0.0.6', clientid: '7' };
      await kit.http.post(hook('on_publish')).type('form').send(form({ ...base, call: 'publish', name: 'sk_wrong', type: 'live' })).expect(403);
      const ok = await kit.http.post(hook('on_publish')).type('form').send(form({ ...base, call: 'publish', name: a.streamKey, type: 'live' })).expect(200);
      assert.equal(ok.text, '');
      await kit.http.post(hook('on_unpublish')).type('form').send(form({ ...base, call: 'publish_done', name: a.streamKey })).expect(200);
      await waitFor('grace', () => kit.control.liveSessions.inGrace(a.roomId), 10_000);
      // Reconnect within the grace, this time asking for the rename: 302 Location = room id.
      const renamed = await kit.http.post(hook('on_publish', '&rename=1')).type('form')
        .send(form({ ...base, clientid: '8', call: 'publish', name: a.streamKey, type: 'live' })).expect(302);
      assert.equal(renamed.headers.location, a.roomId);
      await waitFor('grace cancelled', () => !kit.control.liveSessions.inGrace(a.roomId), 10_000);
      // Query arguments of the publish URL arrive as form fields: a bad txSecret is refused.
      const b = await kit.anchorWithRoom();
      await kit.http.post(hook('on_publish')).type('form')
        .send(form({ ...base, call: 'publish', name: b.streamKey, txSecret: '0'.repeat(32), txTime: 'FFFFFFFF' })).expect(403);
      // Play: the token comes as a form field.
      const { token } = (await kit.http.get(`/api/v1/rooms/${a.roomId}/play-token`).expect(200)).body;
      await kit.http.post(hook('on_play')).type('form').send(form({ ...base, call: 'play', name: a.roomId, token })).expect(200);
      await kit.http.post(hook('on_play')).type('form').send(form({ ...base, call: 'play', name: a.roomId })).expect(403);
      await kit.http.post(hook('on_stop')).type('form').send(form({ ...base, call: 'play_done', name: a.roomId })).expect(200);
    });

    it('malformed hook bodies get 400, never a crash', async () => {
      await kit.http.post(hook('on_publish')).send({ nothing: true }).expect(400);
      await kit.http.post(hook('on_publish')).send({ app: 'live', stream: 'x'.repeat(5000) }).expect(400);
      await kit.http.post(hook('on_publish')).type('form').send('call=publish').expect(400);
      await kit.http.post(hook('on_publish')).set('Content-Type', 'application/json').send('{oops').expect(400);
      await kit.http.post(hook('on_play')).send({ app: ['live'], stream: {} }).expect(400);
    });
  });

  describe(`who may call the hooks, on ${set.name}`, () => {
    const kits: Kit[] = [];
    const kitWith = async (hooks: Record<string, unknown>, callbacks: Record<string, unknown> = {}) => {
      const k = await makeKit(set, { hooks, callbacks });
      kits.push(k);
      return k;
    };
    after(async () => { for (const k of kits) await k.close(); });
    const body = { action: 'on_publish', client_id: 'c1', ip: '10.0.0.5', app: 'live', stream: '1', param: '?key=sk_x' };

    it('refuses every call while neither a secret nor an allowlist is configured', async () => {
      const k = await kitWith({});
      const res = await k.http.post('/api/v1/hook/on_publish').send(body).expect(403);
      assert.equal(res.body.error.code, 'hooks_not_configured');
      await k.http.post('/api/v1/hook/on_dvr').send({ ...body, action: 'on_dvr', file: '/etc/shadow' }).expect(403);
    });

    it('with a secret: a missing or wrong ?secret= gets 401 before any decision, the right one is heard', async () => {
      const k = await kitWith({ secret: SECRET });
      const a = await k.anchorWithRoom();
      const publish = { ...body, stream: a.roomId, param: `?key=${a.streamKey}` };
      assert.equal((await k.http.post('/api/v1/hook/on_publish').send(publish).expect(401)).body.error.code, 'invalid_hook_secret');
      await k.http.post('/api/v1/hook/on_publish?secret=wrong-secret-0123456789').send(publish).expect(401);
      await k.http.post(`/api/v1/hook/on_publish?secret=${SECRET}&secret=${SECRET}`).send(publish).expect(401);
      assert.equal(await k.control.sessionStore.findActiveByRoom(a.roomId), null, 'a refused hook call created no session');
      await k.http.post(hook('on_publish')).send(publish).expect(200);
      const metrics = await (await fetch(`${await k.listen()}/metrics`)).text();
      assert.match(metrics, /onair_hooks_refused_total\{code="invalid_hook_secret"\} 3\b/);
    });

    it('with an allowlist: other sources are refused; with both, both must pass', async () => {
      const elsewhere = await kitWith({ allow: '10.0.0.0/8, fd00::/8' });
      await elsewhere.http.post(hook('on_play')).send({ ...body, action: 'on_play' }).expect(403);
      const local = await kitWith({ allow: '127.0.0.1, ::1' });
      await local.http.post('/api/v1/hook/on_play').send({ ...body, action: 'on_play' }).expect(403); // heard: no token, play refused
      assert.notEqual((await local.http.post('/api/v1/hook/on_play').send({ ...body, action: 'on_play' })).body.error?.code, 'source_not_allowed');
      const both = await kitWith({ allow: '127.0.0.1, ::1', secret: SECRET });
      await both.http.post('/api/v1/hook/on_stop').send({ ...body, action: 'on_stop' }).expect(401);
      await both.http.post(hook('on_stop')).send({ ...body, action: 'on_stop' }).expect(200);
    });

    it("onair's own media service is heard with the secret derived from the media key", async () => {
      const k = await kitWith({}, { mediaKey: 'split-media-key-0123456789' });
      await k.http.post('/api/v1/hook/on_stop').send({ ...body, action: 'on_stop' }).expect(401);
      await k.http.post(`/api/v1/hook/on_stop?secret=${mediaHookSecret('split-media-key-0123456789')}`).send({ ...body, action: 'on_stop' }).expect(200);
    });
  });

  describe(`recordings reported by hooks, on ${set.name}`, () => {
    let kit: Kit;
    let dir: string;
    let outside: string;
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'onair-recordings-'));
      outside = mkdtempSync(join(tmpdir(), 'onair-outside-'));
      kit = await makeKit(set, { hooks: { secret: SECRET }, media: { recordingsDir: dir } });
    });
    after(async () => {
      await kit.close();
      rmSync(dir, { recursive: true, force: true });
      rmSync(outside, { recursive: true, force: true });
    });
    const count = async (sql: string, params: unknown[]) => {
      const [row] = await kit.ports.db.sequelize.query(sql, { replacements: params, type: 'SELECT' as never }) as unknown as Array<{ n: number | string }>;
      return Number(row!.n);
    };
    const dvr = (roomId: string, file: string) => ({ action: 'on_dvr', client_id: 'c9', ip: '10.0.0.5', app: 'live', stream: roomId, file });

    it('accepts only existing files inside the recordings directory: /etc/shadow, ../ and symlinks out are refused', async () => {
      const a = await kit.anchorWithRoom();
      writeFileSync(join(outside, 'secret.flv'), 'not a recording');
      mkdirSync(join(dir, a.roomId));
      symlinkSync(join(outside, 'secret.flv'), join(dir, a.roomId, 'link.flv'));
      symlinkSync(outside, join(dir, 'linkdir'));
      for (const file of ['/etc/shadow', '/etc/passwd', `${dir}/../../etc/passwd`, '../outside.flv', join(dir, a.roomId, 'link.flv'),
        join(dir, 'linkdir', 'secret.flv'), join(dir, a.roomId, 'missing.flv'), dir]) {
        const res = await kit.http.post(hook('on_dvr')).send(dvr(a.roomId, file)).expect(400);
        assert.equal(res.body.error.code, 'invalid_recording_path', file);
      }
      // nginx-rtmp's record_done (form, `path`) goes through the same check.
      await kit.http.post(hook('on_dvr')).type('form').send(new URLSearchParams({ call: 'record_done', app: 'live', name: a.roomId, path: '/etc/shadow', clientid: '3', addr: '10.0.0.5' }).toString()).expect(400);
      const good = join(dir, a.roomId, 'show.flv');
      writeFileSync(good, 'FLV');
      await kit.http.post(hook('on_dvr')).send(dvr(a.roomId, good)).expect(200);
      await kit.http.post(hook('on_dvr')).send(dvr(a.roomId, `${a.roomId}/show.flv`)).expect(200); // relative to the directory
      await waitFor('record row', async () => (await count('SELECT COUNT(*) AS n FROM live_records WHERE video_url = ?', [good])) >= 1, 10_000);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(await count('SELECT COUNT(*) AS n FROM live_records WHERE video_url NOT LIKE ?', [`${dir}%`]), 0, 'no recording row outside the directory');
      assert.equal(await count('SELECT COUNT(*) AS n FROM live_records WHERE video_url = ? AND file_size = 3', [good]), 1, 'one recording.finished per file, its size read from disk');
    });
  });
}
