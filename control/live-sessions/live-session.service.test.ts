import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { cacheKeys } from '../../core/cache/keys.js';
import type { PublishEnded, PublishStarted, StreamStats } from '../../core/media/media-contract.js';
import { testAdapterSets } from '../../core/testing/test-ports.js';
import { waitFor } from '../../core/testing/wait-for.js';
import { pushSigningKey, signTxSecret, txTimeHex } from '../../core/tokens/tx-secret.js';
import { makeKit, type Kit } from '../testing/control-kit.js';
import { AudienceStore } from '../audience/audience.store.js';
import type { LiveSession } from './live-session.js';

const GRACE = 300;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const publishReq = (streamKey: string, query: Record<string, string> = {}) => ({ app: 'live', streamKey, query, clientIp: '127.0.0.1' });
const started = (roomId: string, publisherId: string, sessionId?: string): PublishStarted =>
  ({ streamName: roomId, app: 'live', publisherId, sessionId, clientIp: '127.0.0.1', at: Date.now() });
const ended = (roomId: string, publisherId: string): PublishEnded =>
  ({ streamName: roomId, app: 'live', publisherId, at: Date.now(), reason: 'closed', bytesIn: 1000, durationMs: 1000 });
const queryOf = (url: string) => Object.fromEntries(new URL(url.replace(/^rtmp:/, 'http:')).searchParams);

/** Waits (bounded) until check() holds. */
const until = (check: () => Promise<boolean>, ms = 3000) => waitFor('condition', check, ms, 20);

for (const set of testAdapterSets()) {
  describe(`live lifecycle on ${set.name}`, () => {
    let kit: Kit;
    before(async () => {
      kit = await makeKit(set, { live: { reconnectGrace: GRACE } });
    });
    after(async () => {
      await kit.close();
    });

    /** start -> authorizePublish (with the signed URL) -> markLive. */
    async function goLive() {
      const a = await kit.anchorWithRoom();
      const start = await kit.http.post('/api/v1/live/start').set(a.auth).send({ room_id: a.roomId }).expect(200);
      const decision = await kit.control.hooks.authorizePublish(publishReq(a.streamKey, queryOf(start.body.push_url)));
      assert.ok(decision.allow, JSON.stringify(decision));
      await kit.control.liveSessions.markLive(started(a.roomId, `pub-${a.roomId}`, decision.sessionId));
      kit.media.publishing.add(a.roomId);
      return { ...a, sessionId: start.body.session_id as string };
    }

    it('start: preparing session, signed push URL, temp:live and room cache; a second start returns the same session', async () => {
      const a = await kit.anchorWithRoom();
      const res = await kit.http.post('/api/v1/live/start').set(a.auth).send({ room_id: a.roomId }).expect(200);
      assert.match(res.body.session_id, /^\d{15,20}$/);
      assert.equal(res.body.status, 'preparing');
      const q = queryOf(res.body.push_url);
      assert.ok(res.body.push_url.startsWith(`rtmp://127.0.0.1:${kit.ports.config.rtmp.port}/live/${a.streamKey}?`));
      assert.equal(q.txSecret, signTxSecret(pushSigningKey(kit.ports.config.secret!), a.streamKey, q.txTime!));
      assert.ok(Math.abs(parseInt(q.txTime!, 16) * 1000 - Date.parse(res.body.expires_at)) < 1000);
      const temp = await kit.ports.cache.hGetAll(cacheKeys.liveTemp(res.body.session_id));
      assert.equal(temp.room_id, a.roomId);
      assert.equal(temp.status, 'preparing');
      const room = await kit.http.get(`/api/v1/rooms/${a.roomId}`).expect(200);
      assert.equal(room.body.status, 'preparing');
      assert.equal(room.body.session_id, res.body.session_id);
      const again = await kit.http.post('/api/v1/live/start').set(a.auth).send({ room_id: a.roomId }).expect(200);
      assert.equal(again.body.session_id, res.body.session_id);
      const other = await kit.user('anchor');
      await kit.http.post('/api/v1/live/start').set(other.auth).send({ room_id: a.roomId }).expect(403);
      await kit.http.post('/api/v1/live/start').set(a.auth).send({ room_id: 'x' }).expect(400);
      await kit.http.post('/api/v1/live/start').set(a.auth).send({}).expect(400);
    });

    it('publish authorization: wrong/forged/expired credentials are refused; the bare key is enough (OBS)', async () => {
      const a = await kit.anchorWithRoom();
      const key = pushSigningKey(kit.ports.config.secret!);
      const future = txTimeHex(Math.floor(Date.now() / 1000) + 600);
      const past = txTimeHex(Math.floor(Date.now() / 1000) - 1);
      const cases: Array<[ReturnType<typeof publishReq>, string]> = [
        [publishReq('sk_' + 'A'.repeat(43)), 'unknown_key'],
        [publishReq('not-a-key'), 'unknown_key'],
        [publishReq(a.streamKey, { txSecret: '0'.repeat(32), txTime: future }), 'bad_push_signature'],
        [publishReq(a.streamKey, { txSecret: signTxSecret(key, a.streamKey, past), txTime: past }), 'push_url_expired'],
        [publishReq(a.streamKey, { txTime: future }), 'bad_push_signature'],
        [{ ...publishReq(a.streamKey), app: 'other' }, 'unknown_app'],
      ];
      for (const [req, reason] of cases) assert.deepEqual(await kit.control.hooks.authorizePublish(req), { allow: false, reason });
      // No /live/start: the key alone goes live and the session is created on the spot.
      const decision = await kit.control.hooks.authorizePublish(publishReq(a.streamKey));
      assert.ok(decision.allow);
      assert.equal(decision.streamName, a.roomId);
      assert.equal(decision.record, false);
      const session = await kit.control.sessionStore.findById(decision.sessionId!);
      assert.equal(session?.status, 'preparing');
      // While that publish is pending, a second encoder is refused.
      assert.deepEqual(await kit.control.hooks.authorizePublish(publishReq(a.streamKey)), { allow: false, reason: 'already_publishing' });
    });

    it('publish.started -> live: start_at, online set, anchor status; a second publisher is refused', async () => {
      const a = await goLive();
      const s = await kit.control.sessionStore.findById(a.sessionId);
      assert.equal(s?.status, 'live');
      assert.ok(s?.startAt instanceof Date);
      assert.ok(await kit.ports.cache.sIsMember(cacheKeys.liveOnline(), a.roomId));
      const status = await kit.ports.cache.hGetAll(cacheKeys.anchorStatus(a.id));
      assert.equal(status.status, 'live');
      assert.equal(status.session_id, a.sessionId);
      assert.ok((await kit.ports.cache.ttl(cacheKeys.anchorStatus(a.id))) > 0, 'anchor status has a TTL');
      assert.deepEqual(await kit.control.hooks.authorizePublish(publishReq(a.streamKey)), { allow: false, reason: 'already_publishing' });
      // markLive again (a replayed event) changes nothing.
      await kit.control.liveSessions.markLive(started(a.roomId, `pub-${a.roomId}`, a.sessionId));
      assert.equal((await kit.control.sessionStore.findById(a.sessionId))?.startAt?.getTime(), s?.startAt?.getTime());
      const room = await kit.http.get(`/api/v1/rooms/${a.roomId}`).expect(200);
      assert.equal(room.body.is_live, true);
    });

    it('heartbeat refreshes the anchor status, online count and peak viewers', async () => {
      const a = await goLive();
      const stats: StreamStats = {
        streamName: a.roomId, publisherId: `pub-${a.roomId}`, at: Date.now(), bitrateInKbps: 2000, bitrateOutKbps: 4000,
        viewers: { rtmp: 1, 'http-flv': 5, 'ws-flv': 0, hls: 3, webrtc: 0 }, videoFrames: 10, audioFrames: 10, bytesIn: 1, bytesOut: 1,
      };
      await kit.control.liveSessions.heartbeat(stats);
      assert.equal(await kit.ports.cache.get(cacheKeys.roomOnlineCount(a.roomId)), '9');
      assert.equal((await kit.control.sessionStore.findById(a.sessionId))?.peakViewers, 9);
      await kit.control.liveSessions.heartbeat({ ...stats, viewers: { rtmp: 0, 'http-flv': 1, 'ws-flv': 0, hls: 0, webrtc: 0 } });
      assert.equal((await kit.control.sessionStore.findById(a.sessionId))?.peakViewers, 9, 'the peak stays');
      assert.equal((await kit.http.get(`/api/v1/rooms/${a.roomId}`).expect(200)).body.viewers, 1);
    });

    it('anchor close: ended with duration and close_method 1, Redis cleaned, publisher kicked, settled asynchronously', async () => {
      const a = await goLive();
      await sleep(1100);
      const res = await kit.http.post('/api/v1/live/close').set(a.auth).send({ room_id: a.roomId }).expect(200);
      assert.equal(res.body.status, 'ended');
      assert.equal(res.body.close_method, 1);
      assert.ok(res.body.duration_s >= 1, `duration ${res.body.duration_s}`);
      assert.ok(kit.media.kickedPublishers.includes(a.roomId));
      assert.equal(await kit.ports.cache.sIsMember(cacheKeys.liveOnline(), a.roomId), false);
      assert.equal(await kit.ports.cache.exists(cacheKeys.anchorStatus(a.id)), false);
      assert.equal(await kit.ports.cache.exists(cacheKeys.liveTemp(a.sessionId)), false);
      assert.equal(await kit.ports.cache.exists(cacheKeys.roomOnlineCount(a.roomId)), false);
      assert.equal((await kit.http.get(`/api/v1/rooms/${a.roomId}`).expect(200)).body.is_live, false);
      await kit.control.settlement.idle();
      const stats = await kit.control.settlement.get(a.sessionId);
      assert.equal(stats?.durationS, res.body.duration_s);
      // Closing again: 409 not_live; ending again through the service is a no-op.
      const again = await kit.http.post('/api/v1/live/close').set(a.auth).send({ room_id: a.roomId }).expect(409);
      assert.equal(again.body.error.code, 'not_live');
      const same = await kit.control.liveSessions.endSession(a.sessionId, 3, 'late');
      assert.equal(same.closeMethod, 1);
      // The media's publish.ended arriving after the close starts no grace timer.
      await kit.control.liveSessions.publisherGone(ended(a.roomId, `pub-${a.roomId}`));
      assert.equal(kit.control.liveSessions.inGrace(a.roomId), false);
    });

    it('a publisher that drops and returns within the grace keeps the same session', async () => {
      const a = await goLive();
      await kit.control.liveSessions.publisherGone(ended(a.roomId, `pub-${a.roomId}`));
      assert.equal(kit.control.liveSessions.inGrace(a.roomId), true);
      assert.equal((await kit.control.sessionStore.findById(a.sessionId))?.status, 'live');
      await sleep(GRACE / 3);
      const decision = await kit.control.hooks.authorizePublish(publishReq(a.streamKey));
      assert.ok(decision.allow);
      assert.equal(decision.sessionId, a.sessionId, 'same session');
      await kit.control.liveSessions.markLive(started(a.roomId, 'pub-second', decision.sessionId));
      assert.equal(kit.control.liveSessions.inGrace(a.roomId), false);
      await sleep(GRACE + 200);
      assert.equal((await kit.control.sessionStore.findById(a.sessionId))?.status, 'live', 'still live after the grace');
      // The first publisher's late publish.ended does not detach the second one.
      await kit.control.liveSessions.publisherGone(ended(a.roomId, `pub-${a.roomId}`));
      assert.equal(kit.control.liveSessions.inGrace(a.roomId), false);
    });

    it('after the grace the session ends with close_method 3', async () => {
      const a = await goLive();
      // 'ended' is emitted after the database and Redis are both updated.
      const endedEvent = new Promise<LiveSession>((resolve) => {
        const listener = (s: LiveSession) => {
          if (s.id !== a.sessionId) return;
          kit.control.liveSessions.observer.off('ended', listener);
          resolve(s);
        };
        kit.control.liveSessions.observer.on('ended', listener);
      });
      const goneAt = Date.now();
      await kit.control.liveSessions.publisherGone(ended(a.roomId, `pub-${a.roomId}`));
      const s = await endedEvent;
      assert.ok(Date.now() - goneAt >= GRACE - 20, 'not before the grace');
      assert.equal(s.closeMethod, 3);
      assert.equal((await kit.control.sessionStore.findById(a.sessionId))?.status, 'ended');
      assert.equal(await kit.ports.cache.sIsMember(cacheKeys.liveOnline(), a.roomId), false);
    });

    it('operator force close: close_method 2 with the reason, key revoked so the reconnect is refused; restore issues a new key', async () => {
      const a = await goLive();
      const op = await kit.operator();
      const res = await kit.http.post('/api/v1/admin/live/close').set(op.auth).send({ room_id: a.roomId, reason: 'violates rules' }).expect(200);
      assert.equal(res.body.stream_key_revoked, true);
      assert.equal(res.body.session.close_method, 2);
      assert.equal(res.body.session.close_reason, 'violates rules');
      assert.ok(kit.media.kickedPublishers.includes(a.roomId));
      assert.deepEqual(await kit.control.hooks.authorizePublish(publishReq(a.streamKey)), { allow: false, reason: 'key_revoked' });
      const start = await kit.http.post('/api/v1/live/start').set(a.auth).send({ room_id: a.roomId }).expect(409);
      assert.equal(start.body.error.code, 'stream_key_revoked');
      await kit.http.post('/api/v1/admin/live/close').set(a.auth).send({ room_id: a.roomId, reason: 'x' }).expect(403);
      await kit.http.post('/api/v1/admin/live/close').set(op.auth).send({ room_id: a.roomId }).expect(400);

      await kit.http.post(`/api/v1/admin/rooms/${a.roomId}/restore`).set(op.auth).expect(200);
      const key = await kit.http.get(`/api/v1/rooms/${a.roomId}/stream-key`).set(a.auth).expect(200);
      assert.notEqual(key.body.stream_key, a.streamKey);
      assert.equal(key.body.revoked, false);
      assert.deepEqual(await kit.control.hooks.authorizePublish(publishReq(a.streamKey)), { allow: false, reason: 'unknown_key' });
      assert.equal((await kit.control.hooks.authorizePublish(publishReq(key.body.stream_key))).allow, true);
    });

    it('a publish-banned anchor is refused at start and at publish; a ban ends the running show; lifting restores', async () => {
      const a = await goLive();
      const op = await kit.operator();
      const until = new Date(Date.now() + 3_600_000).toISOString();
      await kit.http.post(`/api/v1/admin/users/${a.id}/publish-ban`).set(op.auth).send({ until, reason: 'spam' }).expect(201);
      const s = await kit.control.sessionStore.findById(a.sessionId);
      assert.equal(s?.status, 'ended', 'the ban ended the show');
      assert.equal(s?.closeMethod, 2);
      assert.equal(await kit.control.moderation.isPublishBanned(a.id), true);
      const start = await kit.http.post('/api/v1/live/start').set(a.auth).send({ room_id: a.roomId }).expect(403);
      assert.equal(start.body.error.code, 'publish_banned');
      assert.deepEqual(await kit.control.hooks.authorizePublish(publishReq(a.streamKey)), { allow: false, reason: 'publish_banned' });
      const lifted = await kit.http.delete(`/api/v1/admin/users/${a.id}/publish-ban`).set(op.auth).expect(200);
      assert.equal(lifted.body.lifted, 1);
      await kit.http.post('/api/v1/live/start').set(a.auth).send({ room_id: a.roomId }).expect(200);
      // Permanent ban (no until) through the service the audit handler uses.
      await kit.control.moderation.banPublishing(a.id, null, 'severe');
      assert.equal(await kit.control.moderation.isPublishBanned(a.id), true);
      await kit.http.post(`/api/v1/admin/users/${a.id}/publish-ban`).set(op.auth).send({ until: 'tomorrow', reason: 'x' }).expect(400);
      await kit.http.post('/api/v1/admin/users/999999/publish-ban').set(op.auth).send({ reason: 'x' }).expect(404);
    });

    it('attachMediaEvents routes publish and play events to the lifecycle, audience and settlement', async () => {
      const a = await kit.anchorWithRoom();
      const emitter = new EventEmitter();
      const detach = kit.control.attachMediaEvents(emitter);
      const decision = await kit.control.hooks.authorizePublish(publishReq(a.streamKey));
      assert.ok(decision.allow);
      emitter.emit('publish.started', started(a.roomId, 'ev-pub', decision.sessionId));
      await until(async () => (await kit.control.sessionStore.findById(decision.sessionId!))?.status === 'live');
      const play = (viewerId: string) => ({ streamName: a.roomId, viewerId, protocol: 'http-flv' as const, clientIp: '127.0.0.1', at: Date.now() });
      emitter.emit('play.started', play('v1'));
      emitter.emit('play.started', play('v2'));
      emitter.emit('play.ended', { ...play('v1'), reason: 'closed', bytesOut: 10, durationMs: 10 });
      const audience = new AudienceStore(kit.ports.db);
      await until(async () => (await audience.countViewers(decision.sessionId!)) === 2);
      emitter.emit('publish.ended', ended(a.roomId, 'ev-pub'));
      await until(async () => (await kit.control.sessionStore.findById(decision.sessionId!))?.closeMethod === 3);
      // The grace timer ends the session on its own; settlement follows asynchronously.
      await until(async () => (await kit.control.settlement.get(decision.sessionId!)) !== null);
      assert.equal((await kit.control.settlement.get(decision.sessionId!))?.totalViewers, 2, 'settlement counts distinct viewers');
      detach();
      assert.equal(emitter.listenerCount('publish.started'), 0);
    });
  });
}
