/**
 * Issue 9, points 9, 10, 15 and 16 at the API and hook level, on both adapter sets (the ffmpeg
 * versions are in tests/e2e/live-hardening.test.ts):
 *   9  rotating a revoked key must not undo an operator's force close; only restore does
 *  10  an anchor live in two rooms lost the first show to the reaper (one status hash per anchor)
 *  15  ONAIR_PUSH_AUTH=signed: the key alone no longer publishes
 *  16  preparing sessions expire with their push URL; at start, live sessions media does not hold
 *      get the reconnect grace, then end
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testAdapterSets } from '../../core/testing/test-ports.js';
import { waitFor } from '../../core/testing/wait-for.js';
import { silentLogger } from '../../core/logging/logger.js';
import { UnavailableError } from '../../core/errors.js';
import type { StreamStats } from '../../core/media/media-contract.js';
import { pushSigningKey, signTxSecret, txTimeHex } from '../../core/tokens/tx-secret.js';
import { makeKit, type Kit } from '../testing/control-kit.js';
import { reconcileLiveSessions } from '../workers/startup-reconcile.js';

const publishReq = (streamKey: string, query: Record<string, string> = {}) => ({ app: 'live', streamKey, query, clientIp: '127.0.0.1' });
const queryOf = (url: string) => Object.fromEntries(new URL(url.replace(/^rtmp:/, 'http:')).searchParams);

for (const set of testAdapterSets()) {
  describe(`publish rules on ${set.name}`, () => {
    let kit: Kit;
    let operator: { auth: { Authorization: string } };
    before(async () => {
      kit = await makeKit(set, { live: { reconnectGrace: 300 } });
      operator = await kit.operator();
    });
    after(async () => { await kit.close(); });

    async function live(a: { roomId: string; streamKey: string }) {
      const decision = await kit.control.hooks.authorizePublish(publishReq(a.streamKey));
      assert.ok(decision.allow, JSON.stringify(decision));
      return kit.control.liveSessions.markLive({ streamName: a.roomId, app: 'live', publisherId: `p-${a.roomId}-${Date.now()}`, sessionId: decision.sessionId, clientIp: '127.0.0.1', at: Date.now() });
    }

    it('after a force close, rotating the key is refused and the key stays revoked; an operator\'s restore lifts it', async () => {
      const a = await kit.anchorWithRoom();
      await live(a);
      await kit.http.post('/api/v1/admin/live/close').set(operator.auth).send({ room_id: a.roomId, reason: 'terms' }).expect(200);
      const rotate = await kit.http.post(`/api/v1/rooms/${a.roomId}/stream-key/rotate`).set(a.auth).send({}).expect(409);
      assert.equal(rotate.body.error.code, 'stream_key_revoked');
      const key = await kit.http.get(`/api/v1/rooms/${a.roomId}/stream-key`).set(a.auth).expect(200);
      assert.equal(key.body.revoked, true);
      assert.deepEqual(await kit.control.hooks.authorizePublish(publishReq(key.body.stream_key)), { allow: false, reason: 'key_revoked' });
      await kit.http.post(`/api/v1/admin/rooms/${a.roomId}/restore`).set(a.auth).expect(403);
      await kit.http.post(`/api/v1/admin/rooms/${a.roomId}/restore`).set(operator.auth).expect(200);
      const restored = await kit.http.get(`/api/v1/rooms/${a.roomId}/stream-key`).set(a.auth).expect(200);
      assert.equal(restored.body.revoked, false);
      assert.notEqual(restored.body.stream_key, a.streamKey);
      assert.equal((await kit.control.hooks.authorizePublish(publishReq(restored.body.stream_key))).allow, true);
      // Once restored, the anchor may rotate again.
      await kit.http.post(`/api/v1/rooms/${a.roomId}/stream-key/rotate`).set(a.auth).send({}).expect(200);
    });
  });

  describe(`an anchor live in two rooms on ${set.name}`, () => {
    let kit: Kit;
    // The reaper ends a session silent for 1.2 s; it sweeps every second.
    before(async () => { kit = await makeKit(set, { live: { heartbeatTimeout: 1200, reconnectGrace: 300 } }); });
    after(async () => { await kit.close(); });

    const stats = (roomId: string, publisherId: string): StreamStats => ({
      streamName: roomId, publisherId, at: Date.now(), bitrateInKbps: 1000, bitrateOutKbps: 0,
      viewers: { rtmp: 0, 'http-flv': 1, 'ws-flv': 0, hls: 0, webrtc: 0 }, videoFrames: 1, audioFrames: 1, bytesIn: 1, bytesOut: 1,
    });
    const isLive = async (roomId: string) => (await kit.http.get(`/api/v1/rooms/${roomId}`).expect(200)).body.is_live as boolean;

    it('keeps both healthy shows (each judged by its own heartbeat), and still reaps the one that falls silent', async () => {
      const anchor = await kit.user('anchor');
      const room = async () => (await kit.http.post('/api/v1/rooms').set(anchor.auth).send({ title: 'r' }).expect(201)).body as { id: string; stream_key: string };
      const first = await room();
      const second = await room();
      for (const r of [first, second]) {
        const decision = await kit.control.hooks.authorizePublish(publishReq(r.stream_key));
        assert.ok(decision.allow, JSON.stringify(decision));
        await kit.control.liveSessions.markLive({ streamName: r.id, app: 'live', publisherId: `p-${r.id}`, sessionId: decision.sessionId, clientIp: '', at: Date.now() });
      }
      const beating = new Set([first.id, second.id]);
      const timer = setInterval(() => {
        for (const id of beating) void kit.control.liveSessions.heartbeat(stats(id, `p-${id}`)).catch(() => undefined);
      }, 200);
      try {
        await new Promise((r) => setTimeout(r, 2500)); // two heartbeat timeouts, two sweeps
        assert.equal(await isLive(first.id), true, 'the first show (the anchor hash names the second) is not reaped');
        assert.equal(await isLive(second.id), true);
        // The second show ends; the first one goes on, and takes the anchor hash over.
        await kit.http.post('/api/v1/live/close').set(anchor.auth).send({ room_id: second.id }).expect(200);
        beating.delete(second.id);
        await new Promise((r) => setTimeout(r, 2000));
        assert.equal(await isLive(first.id), true);
        assert.equal((await kit.ports.cache.hGetAll(`hash:anchor:status:${anchor.id}`)).room_id, first.id);
        // Its encoder vanishes without a word: the reaper ends it.
        beating.delete(first.id);
        await waitFor('silent show reaped', async () => !(await isLive(first.id)), 5000);
      } finally {
        clearInterval(timer);
      }
    });
  });

  describe(`ONAIR_PUSH_AUTH=signed on ${set.name}`, () => {
    let kit: Kit;
    before(async () => { kit = await makeKit(set, { live: { pushAuth: 'signed' } }); });
    after(async () => { await kit.close(); });

    it('refuses the key alone and an expired signature, accepts the URL from /live/start', async () => {
      const a = await kit.anchorWithRoom();
      assert.deepEqual(await kit.control.hooks.authorizePublish(publishReq(a.streamKey)), { allow: false, reason: 'push_signature_required' });
      const txTime = txTimeHex(Math.floor(Date.now() / 1000) - 5);
      const expired = { txTime, txSecret: signTxSecret(pushSigningKey(kit.ports.config.secret!), a.streamKey, txTime) };
      assert.deepEqual(await kit.control.hooks.authorizePublish(publishReq(a.streamKey, expired)), { allow: false, reason: 'push_url_expired' });
      const start = await kit.http.post('/api/v1/live/start').set(a.auth).send({ room_id: a.roomId }).expect(200);
      assert.equal((await kit.control.hooks.authorizePublish(publishReq(a.streamKey, queryOf(start.body.push_url)))).allow, true);
    });
  });

  describe(`session expiry and start-up reconciliation on ${set.name}`, () => {
    let kit: Kit;
    before(async () => {
      // Push URLs live 1.5 s; the reaper sweeps every 2 s.
      kit = await makeKit(set, { live: { pushUrlTtl: 1500, heartbeatTimeout: 6000, reconnectGrace: 400 } });
    });
    after(async () => { await kit.close(); });

    it('a preparing session whose anchor never publishes ends when its push URL expires; a new /live/start renews it', async () => {
      const a = await kit.anchorWithRoom();
      const start = await kit.http.post('/api/v1/live/start').set(a.auth).send({ room_id: a.roomId }).expect(200);
      assert.equal((await kit.http.get(`/api/v1/rooms/${a.roomId}`).expect(200)).body.status, 'preparing');
      await new Promise((r) => setTimeout(r, 1000));
      const again = await kit.http.post('/api/v1/live/start').set(a.auth).send({ room_id: a.roomId }).expect(200);
      assert.equal(again.body.session_id, start.body.session_id, 'the same session, its URL renewed');
      await new Promise((r) => setTimeout(r, 1200)); // past the first URL's expiry, before the second's
      assert.equal((await kit.http.get(`/api/v1/rooms/${a.roomId}`).expect(200)).body.status, 'preparing');
      await waitFor('preparing session expired', async () => (await kit.http.get(`/api/v1/rooms/${a.roomId}`)).body.status === 'idle', 6000);
      const session = await kit.http.get(`/api/v1/live/sessions/${start.body.session_id}`).set(a.auth).expect(200);
      assert.equal(session.body.status, 'ended');
      assert.equal(session.body.close_method, 3);
      assert.match(session.body.close_reason, /never published/);
    });

    it('at start, live sessions media does not hold wait the reconnect grace and end; held ones and reconnecting ones stay', async () => {
      const held = await kit.anchorWithRoom();
      const gone = await kit.anchorWithRoom();
      const back = await kit.anchorWithRoom();
      for (const a of [held, gone, back]) await live(a);
      kit.media.publishing.add(held.roomId);
      const deps = { sessionStore: kit.control.sessionStore, sessions: kit.control.liveSessions, cache: kit.ports.cache, log: silentLogger() };
      // A media that cannot say what it holds changes nothing.
      const unknown = { async listStreams(): Promise<never> { throw new UnavailableError('no media'); } };
      assert.equal(await reconcileLiveSessions({ ...deps, media: unknown }), 0);
      assert.equal(kit.control.liveSessions.inGrace(gone.roomId), false);

      assert.equal(await reconcileLiveSessions({ ...deps, media: kit.media }), 2);
      assert.equal(kit.control.liveSessions.inGrace(gone.roomId), true);
      assert.equal(kit.control.liveSessions.inGrace(held.roomId), false);
      // The encoder of `back` reconnects within the grace.
      await kit.control.liveSessions.markLive({ streamName: back.roomId, app: 'live', publisherId: 'reconnected', clientIp: '', at: Date.now() });
      await waitFor('gone ended', async () => (await kit.http.get(`/api/v1/rooms/${gone.roomId}`)).body.is_live === false, 3000);
      await new Promise((r) => setTimeout(r, 500));
      assert.equal((await kit.http.get(`/api/v1/rooms/${held.roomId}`)).body.is_live, true);
      assert.equal((await kit.http.get(`/api/v1/rooms/${back.roomId}`)).body.is_live, true);
    });

    async function live(a: { roomId: string; streamKey: string }) {
      const decision = await kit.control.hooks.authorizePublish(publishReq(a.streamKey));
      assert.ok(decision.allow, JSON.stringify(decision));
      await kit.control.liveSessions.markLive({ streamName: a.roomId, app: 'live', publisherId: `p-${a.roomId}`, sessionId: decision.sessionId, clientIp: '', at: Date.now() });
    }
  });
}
