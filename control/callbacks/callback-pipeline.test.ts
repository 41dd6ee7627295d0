import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import express from 'express';
import request from 'supertest';
import { until } from '../../core/event-bus/event-bus.contract.js';
import { cssSign } from '../../core/callbacks/css-signature.js';
import { requireRole } from '../http/auth.middleware.js';
import type { Role } from '../auth/user.js';
import { errorHandler } from '../http/error-handler.js';
import { silentLogger } from '../../core/logging/logger.js';
import { busChoices, makeCallbackStack, CALLBACK_KEY, type CallbackStack } from './testing/callback-stack.js';
import { createDeadLetterRouter } from './dead-letters.routes.js';
import type { EventRoutes } from '../../core/events/event-route.js';

/** Test faults: push errors (321 -> stream.failed) on streams named flaky-* fail twice, broken-* fail while `broken` is set. */
const faults = { broken: true, flakyAttempts: new Map<string, number>() };
const withFaults = (h: EventRoutes): EventRoutes => ({
  ...h,
  'stream.failed': async (ctx) => {
    const s = ctx.event.roomId;
    if (s.startsWith('flaky-')) {
      const n = (faults.flakyAttempts.get(s) ?? 0) + 1;
      faults.flakyAttempts.set(s, n);
      if (n <= 2) throw new Error(`flaky failure ${n}`);
    }
    if (s.startsWith('broken-') && faults.broken) throw new Error('database outage (simulated)');
  },
});

function shuffle<T>(a: T[]): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

for (const { set, bus } of busChoices()) {
  describe(`callback pipeline on ${set.name} with ${bus.name}`, () => {
    let s: CallbackStack;
    before(async () => {
      s = await makeCallbackStack(set, bus, {
        overrides: { live: { reconnectGrace: 150, auditPause: 60_000 } },
        routes: withFaults,
        consume: { maxAttempts: 3, backoffMs: 20 },
      });
    });
    after(async () => { await s.close(); });

    for (const via of ['node:http fast path', 'express router'] as const) it(`refuses forged, expired, malformed, unknown and oversized callbacks, logs why, and keeps serving (${via})`, async () => {
      const base = via === 'express router' ? s.routerUrl : s.url;
      const since = Date.now();
      const cb = { event_type: 321, stream_id: 'refusals', sequence: '1' };
      const forged = await s.post(cb, { base, sign: cssSign('wrong-key', Math.floor(Date.now() / 1000) + 600) });
      assert.equal(forged.status, 401);
      assert.equal(((await forged.json()) as { error: { message: string } }).error.message, 'bad_signature');
      const past = Math.floor(Date.now() / 1000) - 5;
      const expired = await s.post(cb, { base, t: past, sign: cssSign(CALLBACK_KEY, past) });
      assert.equal(expired.status, 401);
      const malformed = await fetch(`${base}/api/v1/callback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"event_type":1,' });
      assert.equal(malformed.status, 400);
      const unknown = await s.post({ ...cb, event_type: 999 }, { base });
      assert.equal(unknown.status, 400);
      const missing = await s.post({ event_type: 100, stream_id: 'x' }, { base }); // record without video_url
      assert.equal(missing.status, 400);
      const huge = await fetch(`${base}/api/v1/callback`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...cb, pad: 'x'.repeat(10 * 1024 * 1024) }),
      }).catch((err: unknown) => err as Error);
      if (huge instanceof Response) assert.equal(huge.status, 413);
      const refused = (await s.events.recent({ status: 'refused', limit: 50 })).filter((r) => Number(r.created_at) >= since);
      const reasons = refused.map((r) => r.reason ?? '');
      for (const want of ['bad_signature', 'expired', 'body is not valid JSON', 'unknown event_type 999', 'body exceeds the callback size limit']) {
        assert.ok(reasons.some((r) => r.includes(want)), `live_events has a refusal "${want}": ${JSON.stringify(reasons)}`);
      }
      assert.ok(reasons.some((r) => r.startsWith('invalid 100 body')), 'field validation refusal logged');
      assert.ok(refused.every((r) => !(r.body ?? '').includes('"sign"')), 'no signature stored');
      const ok = await s.post({ ...cb, stream_id: 'still-alive' }, { base });
      assert.equal(ok.status, 200);
      assert.deepEqual(await ok.json(), { code: 0 });
    });

    it('1000 callbacks with duplicates, shuffled: exactly one effect each', async () => {
      const run = Date.now().toString(36);
      const unique: Array<Record<string, unknown>> = [];
      for (let i = 0; i < 300; i++) {
        unique.push({ event_type: 100, stream_id: `rec-${run}`, video_url: `http://vod/${run}/${i}.flv`, file_id: `${run}-${i}`, file_format: 'flv', start_time: 1_700_000_000 + i, end_time: 1_700_000_060 + i, duration: 60, file_size: 1000 + i });
      }
      for (let i = 0; i < 200; i++) {
        unique.push({ event_type: 200, stream_id: `shot-${run}`, pic_url: `/${run}/shot-${i}.jpg`, width: 1280, height: 720, create_time: 1_700_000_000 + i });
      }
      for (let i = 0; i < 100; i++) unique.push({ event_type: 321, stream_id: `err-${run}`, sequence: `${run}${i}`, data_time: 1_700_000_000_000 + i });
      const sends = shuffle([...unique, ...Array.from({ length: 400 }, () => unique[Math.floor(Math.random() * unique.length)]!)]);
      assert.equal(sends.length, 1000);
      const queue = [...sends];
      const statuses: number[] = [];
      await Promise.all(Array.from({ length: 16 }, async () => {
        for (let b = queue.shift(); b; b = queue.shift()) statuses.push((await s.post(b)).status);
      }));
      assert.ok(statuses.every((st) => st === 200), 'every callback accepted');
      await until(async () => (await s.count('event_processed', 'event_id LIKE ?', [`css:%`])) >= 600 + 1, 60_000, 'all processed');
      await until(() => s.consumer.stats.inFlight === 0, 5000, 'idle');
      assert.equal(await s.count('live_records', 'stream_name = ?', [`rec-${run}`]), 300);
      assert.equal(await s.count('live_screenshots', 'stream_name = ?', [`shot-${run}`]), 200);
      assert.equal(await s.count('event_processed', 'event_id LIKE ?', [`css:321:err-${run}:%`]), 100);
      await s.events.flush();
      assert.equal(await s.count('live_events', "status = 'accepted' AND stream_name IN (?, ?, ?)", [`rec-${run}`, `shot-${run}`, `err-${run}`]), 1000);
    });

    it('push makes the session live and notifies followers; cut-off ends it after the grace (close_method 3)', async () => {
      const a = await s.anchorWithRoom();
      const fan = await s.users.create({ username: `fan${Date.now()}`, passwordHash: 'x', role: 'viewer' });
      await s.ports.db.sequelize.query('INSERT INTO follows (user_id, anchor_id, created_at) VALUES (?, ?, ?)', { replacements: [fan.id, a.userId, Date.now()] });
      await s.sessions.start({ id: a.userId, username: 'a', role: 'anchor' }, a.roomId);
      const seq = `${Date.now()}1`;
      assert.equal((await s.post({ event_type: 1, stream_id: a.roomId, sequence: seq, event_time: Math.floor(Date.now() / 1000), user_ip: '10.0.0.1' })).status, 200);
      await until(async () => (await s.sessionStore.findActiveByRoom(a.roomId))?.status === 'live', 10_000, 'live');
      await until(() => s.ports.cache.sIsMember('set:live:online', a.roomId), 5000, 'online set');
      await until(async () => (await s.count('notifications', "user_id = ? AND kind = 'live_started'", [fan.id])) === 1, 5000, 'follower notified');
      const session = (await s.sessionStore.findActiveByRoom(a.roomId))!;
      assert.equal((await s.post({ event_type: 0, stream_id: a.roomId, sequence: seq, event_time: Math.floor(Date.now() / 1000) })).status, 200);
      await until(async () => (await s.sessionStore.findById(session.id))?.status === 'ended', 10_000, 'ended after grace');
      const ended = (await s.sessionStore.findById(session.id))!;
      assert.equal(ended.closeMethod, 3);
      assert.ok(ended.durationS !== null && ended.durationS >= 0);
      await until(async () => !(await s.ports.cache.sIsMember('set:live:online', a.roomId)), 5000, 'online set cleaned');
      // The vendor re-sends the push after the cut-off: stale, the room stays ended, nobody notified twice.
      assert.equal((await s.post({ event_type: 1, stream_id: a.roomId, sequence: seq, event_time: Math.floor(Date.now() / 1000) })).status, 200);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(await s.sessionStore.findActiveByRoom(a.roomId), null);
      assert.equal(await s.count('notifications', "user_id = ? AND kind = 'live_started'", [fan.id]), 1);
    });

    it('push from a publish-banned anchor is kicked and never goes live', async () => {
      const a = await s.anchorWithRoom();
      await s.sessions.start({ id: a.userId, username: 'a', role: 'anchor' }, a.roomId);
      await s.moderation.banPublishing(a.userId, null, 'test ban');
      const before = s.kicked.length;
      await s.post({ event_type: 1, stream_id: a.roomId, sequence: `${Date.now()}2` });
      await until(() => s.kicked.slice(before).includes(a.roomId), 10_000, 'kick');
      assert.notEqual((await s.sessionStore.findActiveByRoom(a.roomId))?.status, 'live');
    });

    it('audit severities: light warns, medium pauses, severe (body HMAC-signed) bans and revokes the key (authorizePublish refuses)', async () => {
      const light = await s.anchorWithRoom();
      const medium = await s.anchorWithRoom();
      const severe = await s.anchorWithRoom();
      for (const a of [medium, severe]) {
        await s.sessions.start({ id: a.userId, username: 'a', role: 'anchor' }, a.roomId);
        await s.post({ event_type: 1, stream_id: a.roomId, sequence: `${a.roomId}${Date.now()}` });
        await until(async () => (await s.sessionStore.findActiveByRoom(a.roomId))?.status === 'live', 10_000, 'live before audit');
      }
      await s.post({ event_type: 317, streamId: light.roomId, img: 'http://img/1.jpg', type: [1], score: [70], suggestion: 'Review', label: 'Sexy' });
      await s.post({ event_type: 317, streamId: medium.roomId, img: 'http://img/2.jpg', type: [1], score: [80], suggestion: 'Block', label: 'Ad' });
      // A permanent ban needs a body no captured signature can be moved to: onair's HMAC header.
      assert.equal((await s.post({ event_type: 315, stream_id: severe.roomId, HitFlag: 1, Score: 97, label: 'Porn', asr_text: '...' }, { hmac: true })).status, 200);
      await until(async () => (await s.count('live_audit_logs', 'room_id IN (?, ?, ?)', [light.roomId, medium.roomId, severe.roomId])) === 3, 10_000, 'three audit logs');
      // light
      assert.equal(await s.count('notifications', "user_id = ? AND kind = 'audit_warning'", [light.userId]), 1);
      assert.equal(await s.moderation.isPublishBanned(light.userId), false);
      // medium: paused for auditPause, show ended, kicked
      const ban = await s.moderation.activeBan(medium.userId);
      assert.ok(ban?.until, 'timed ban');
      const untilMs = new Date(ban.until as unknown as string | Date).getTime();
      assert.ok(Math.abs(untilMs - (Date.now() + 60_000)) < 10_000, 'ban lasts config.live.auditPause');
      assert.equal(await s.sessionStore.findActiveByRoom(medium.roomId), null);
      assert.ok(s.kicked.includes(medium.roomId));
      // severe: permanent, key revoked, refused at publish
      const severeBan = await s.moderation.activeBan(severe.userId);
      assert.ok(severeBan && !severeBan.until, 'permanent ban');
      assert.equal((await s.rooms.findById(severe.roomId))!.streamKeyRevoked, true);
      assert.equal(await s.count('pending_bans', 'user_id = ?', [severe.userId]), 0, 'a verified verdict is applied, not queued');
      const decision = await s.sessions.authorizePublish({ app: 'live', streamKey: severe.streamKey, query: {}, clientIp: '10.0.0.9' });
      assert.equal(decision.allow, false);
      const mediumDecision = await s.sessions.authorizePublish({ app: 'live', streamKey: medium.streamKey, query: {}, clientIp: '10.0.0.9' });
      assert.deepEqual(mediumDecision, { allow: false, reason: 'publish_banned' });
    });

    it('a handler that fails twice then succeeds is retried and logged', async () => {
      const stream = `flaky-${Date.now()}`;
      await s.post({ event_type: 321, stream_id: stream, sequence: '9' });
      await until(async () => (await s.count('event_processed', 'event_id LIKE ?', [`css:321:${stream}:%`])) === 1, 10_000, 'processed');
      assert.equal(faults.flakyAttempts.get(stream), 3);
      // The marker is visible to other connections a moment before the consumer logs 'processed'.
      await until(async () => (await s.events.recent({ status: 'processed', limit: 200 })).some((r) => r.stream_name === stream), 5000, 'processed logged');
      const statuses = (await s.events.recent({ limit: 200 })).filter((r) => r.stream_name === stream).map((r) => r.status).reverse();
      // 'accepted' is logged once the append resolved, so it may follow the first retry; processed is last.
      assert.deepEqual([...statuses].sort(), ['accepted', 'processed', 'retried', 'retried']);
      assert.equal(statuses.at(-1), 'processed');
    });

    it('an always-failing event lands in the DLQ with its error; operators list and replay it after the fix', async () => {
      const stream = `broken-${Date.now()}`;
      faults.broken = true;
      await s.post({ event_type: 321, stream_id: stream, sequence: '7' });
      const guard = (role: Role): express.RequestHandler => (req, _res, next) => { req.user = { id: '1', username: 'op', role }; next(); };
      const adminApp = (role: Role) => express().use('/api/v1', createDeadLetterRouter({ bus: s.bus, guard: [guard(role), requireRole('operator')] })).use(errorHandler(silentLogger()));
      let dead: Array<{ id: string; lastError: string; attempts: number; payload: { roomId: string } }> = [];
      await until(async () => {
        dead = (await request(adminApp('operator')).get('/api/v1/admin/callbacks/dead')).body.dead;
        return dead.some((d) => d.payload.roomId === stream);
      }, 10_000, 'dead letter listed');
      const letter = dead.find((d) => d.payload.roomId === stream)!;
      assert.equal(letter.attempts, 3);
      assert.match(letter.lastError, /database outage/);
      assert.equal((await request(adminApp('anchor')).get('/api/v1/admin/callbacks/dead')).status, 403);
      assert.equal((await request(adminApp('operator')).post('/api/v1/admin/callbacks/dead/abc/replay')).status, 400);
      // The dead letter is visible to other connections a moment before the consumer logs 'dead'
      // (as with 'processed' above): wait for the log line rather than race it.
      await until(async () => {
        await s.events.flush();
        return (await s.events.recent({ status: 'dead' })).some((r) => r.stream_name === stream);
      }, 5000, 'dead logged');
      faults.broken = false; // the database is back
      const replay = await request(adminApp('operator')).post(`/api/v1/admin/callbacks/dead/${letter.id}/replay`);
      assert.deepEqual(replay.body, { replayed: 1 });
      await until(async () => (await s.count('event_processed', 'event_id LIKE ?', [`css:321:${stream}:%`])) === 1, 10_000, 'replayed and processed');
      assert.equal((await request(adminApp('operator')).post(`/api/v1/admin/callbacks/dead/${letter.id}/replay`)).status, 404);
    });
  });
}
