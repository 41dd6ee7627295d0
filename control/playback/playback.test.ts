import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { PlayRequest } from '../../core/media/media-contract.js';
import { testAdapterSets } from '../../core/testing/test-ports.js';
import { signPlayToken } from '../../core/tokens/play-token.js';
import { pushSigningKey, signTxSecret, txTimeHex } from '../../core/tokens/tx-secret.js';
import { makeKit, type Kit } from '../testing/control-kit.js';

const play = (streamName: string, token: string | undefined): PlayRequest =>
  ({ app: 'live', streamName, token, query: token ? { token } : {}, clientIp: '127.0.0.1', protocol: 'http-flv' });

for (const set of testAdapterSets()) {
  describe(`play tokens on ${set.name}`, () => {
    let kit: Kit;
    let live: { roomId: string; streamKey: string; auth: { Authorization: string } };
    before(async () => {
      kit = await makeKit(set);
      live = await kit.anchorWithRoom('Playable');
      const d = await kit.control.hooks.authorizePublish({ app: 'live', streamKey: live.streamKey, query: {}, clientIp: '127.0.0.1' });
      assert.ok(d.allow);
      await kit.control.liveSessions.markLive({ streamName: live.roomId, app: 'live', publisherId: 'p', sessionId: d.sessionId, clientIp: '127.0.0.1', at: Date.now() });
    });
    after(async () => {
      await kit.close();
    });

    it('issues an anonymous token with FLV/HLS/RTMP/WS/WHEP URLs by room id, which authorizes play of that room', async () => {
      const res = await kit.http.get(`/api/v1/rooms/${live.roomId}/play-token`).expect(200);
      const { token } = res.body;
      const port = kit.ports.config.http.port;
      const q = `?token=${encodeURIComponent(token)}`;
      assert.equal(res.body.flv_url, `http://127.0.0.1:${port}/live/${live.roomId}.flv${q}`);
      assert.equal(res.body.hls_url, `http://127.0.0.1:${port}/live/${live.roomId}/index.m3u8${q}`);
      assert.equal(res.body.rtmp_url, `rtmp://127.0.0.1:${kit.ports.config.rtmp.port}/live/${live.roomId}${q}`);
      assert.equal(res.body.ws_url, `ws://127.0.0.1:${port}/live/${live.roomId}.flv${q}`);
      assert.equal(res.body.whep_url, `http://127.0.0.1:${port}/live/${live.roomId}/whep${q}`);
      assert.ok(!JSON.stringify(res.body).includes(live.streamKey), 'play URLs never carry the stream key');
      const ttl = Date.parse(res.body.expires_at) - Date.now();
      assert.ok(ttl > 9 * 60_000 && ttl <= 10 * 60_000 + 1000, `ttl ${ttl}`);
      assert.deepEqual(await kit.control.hooks.authorizePlay(play(live.roomId, token)), { allow: true });
    });

    it('binds the token to the viewer when a bearer token is sent', async () => {
      const viewer = await kit.user('viewer');
      const res = await kit.http.get(`/api/v1/rooms/${live.roomId}/play-token`).set(viewer.auth).expect(200);
      assert.deepEqual(await kit.control.hooks.authorizePlay(play(live.roomId, res.body.token)), { allow: true, viewerId: viewer.id });
    });

    it('refuses missing, forged, expired, wrong-room tokens, stream keys and push signatures', async () => {
      const secret = kit.ports.config.secret!;
      const other = await kit.anchorWithRoom('Other');
      const { token } = (await kit.http.get(`/api/v1/rooms/${live.roomId}/play-token`).expect(200)).body;
      const txTime = txTimeHex(Math.floor(Date.now() / 1000) + 600);
      const cases: Array<[string | undefined, string, string?]> = [
        [undefined, 'missing_token'],
        [signPlayToken('forged-secret-0123456789', { room: live.roomId, exp: Math.floor(Date.now() / 1000) + 60 }), 'invalid_token'],
        [signPlayToken(secret, { room: live.roomId, exp: Math.floor(Date.now() / 1000) - 1 }), 'token_expired'],
        [token, 'wrong_stream', other.roomId],
        [live.streamKey, 'invalid_token'],
        [signTxSecret(pushSigningKey(secret), live.streamKey, txTime), 'invalid_token'],
        [token.slice(0, -2), 'invalid_token'],
      ];
      for (const [t, reason, room] of cases) {
        assert.deepEqual(await kit.control.hooks.authorizePlay(play(room ?? live.roomId, t)), { allow: false, reason }, `case ${reason}`);
      }
      assert.deepEqual(await kit.control.hooks.authorizePlay({ ...play(live.roomId, token), app: 'other' }), { allow: false, reason: 'unknown_app' });
    });

    it('refuses a play token as a publish credential', async () => {
      const { token } = (await kit.http.get(`/api/v1/rooms/${live.roomId}/play-token`).expect(200)).body;
      const d = await kit.control.hooks.authorizePublish({ app: 'live', streamKey: token, query: { token }, clientIp: '127.0.0.1' });
      assert.deepEqual(d, { allow: false, reason: 'unknown_key' });
    });

    it('409 not_live for a room that is not live, 404 for no room, 400 for a bad id', async () => {
      const idle = await kit.anchorWithRoom('Idle');
      const res = await kit.http.get(`/api/v1/rooms/${idle.roomId}/play-token`).expect(409);
      assert.equal(res.body.error.code, 'not_live');
      await kit.http.get('/api/v1/rooms/987654321/play-token').expect(404);
      await kit.http.get('/api/v1/rooms/1e3/play-token').expect(400);
    });
  });
}
