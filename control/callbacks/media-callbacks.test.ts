import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TypedEmitter } from '../../core/events/typed-emitter.js';
import { until } from '../../core/event-bus/event-bus.contract.js';
import { signMediaCallback } from '../../core/callbacks/media-callback-signature.js';
import type { MediaEvents } from '../../core/media/media-contract.js';
import type { DomainEvents } from '../../core/events/domain-events.js';
import { EventIntake } from './event-intake.js';
import { busChoices, makeCallbackStack, MEDIA_KEY, type CallbackStack } from './testing/callback-stack.js';
import { attachMediaEvents } from './media-events.js';

type Emitted = { [K in keyof MediaEvents]: [MediaEvents[K]] };

for (const { set, bus } of busChoices()) {
  describe(`media events on ${set.name} with ${bus.name}`, () => {
    let s: CallbackStack;
    before(async () => { s = await makeCallbackStack(set, bus, { overrides: { live: { reconnectGrace: 100 } } }); });
    after(async () => { await s.close(); });

    it('the in-process edge turns publish.started/ended and record.done into domain events on the bus; stats go to the heartbeat only', async () => {
      const a = await s.anchorWithRoom();
      await s.sessions.start({ id: a.userId, username: 'a', role: 'anchor' }, a.roomId);
      const engine = new TypedEmitter<Emitted>();
      const beats: Array<DomainEvents['stream.heartbeat']> = [];
      const intake = new EventIntake({ bus: s.bus, events: s.events, fanOut: { 'stream.heartbeat': (b) => { beats.push(b); } } });
      const detach = attachMediaEvents(engine, (out) => intake.accept(out, 'media'));
      const publisherId = `pub-${Date.now()}`;
      const t0 = Date.now();
      engine.emit('publish.started', { streamName: a.roomId, app: 'live', publisherId, clientIp: '10.0.0.2', at: t0 });
      await until(async () => (await s.sessionStore.findActiveByRoom(a.roomId))?.status === 'live', 10_000, 'live via the sink');
      engine.emit('stream.stats', { streamName: a.roomId, publisherId, at: t0 + 5, bitrateInKbps: 1, bitrateOutKbps: 1, viewers: { rtmp: 0, 'http-flv': 0, 'ws-flv': 0, hls: 0, webrtc: 0 }, videoFrames: 1, audioFrames: 1, bytesIn: 1, bytesOut: 1 });
      engine.emit('record.done', { streamName: a.roomId, publisherId, path: '/data/rec/a.flv', startedAt: t0, endedAt: t0 + 3000, durationMs: 3000, size: 4096 });
      engine.emit('publish.ended', { streamName: a.roomId, app: 'live', publisherId, at: t0 + 3000, reason: 'closed', bytesIn: 4096, durationMs: 3000 });
      await until(async () => (await s.count('live_records', 'identity = ?', [`media:100:${publisherId}:/data/rec/a.flv`])) === 1, 10_000, 'record row');
      await until(async () => (await s.sessionStore.findActiveByRoom(a.roomId)) === null, 10_000, 'ended after grace');
      detach();
      assert.equal(beats.length, 1);
      assert.equal(await s.count('live_records', 'identity = ? AND session_id IS NOT NULL AND room_id = ?', [`media:100:${publisherId}:/data/rec/a.flv`, a.roomId]), 1, 'record bound to the session');
      await s.events.flush();
      assert.equal(await s.count('live_events', "identity LIKE ? AND status = 'accepted' AND source = 'media'", [`%${publisherId}%`]), 3, 'stats are not on the bus');
      assert.deepEqual((await s.events.recent({ status: 'accepted', limit: 50 })).filter((r) => (r.identity ?? '').includes(publisherId) && r.source === 'media').map((r) => r.event_name).sort(),
        ['recording.finished', 'stream.published', 'stream.unpublished']);
    });

    it('the signed media HTTP callback: accepted once, replay / forged / stale refused with 401', async () => {
      const a = await s.anchorWithRoom();
      const body = JSON.stringify({ event: 'record.done', payload: { streamName: a.roomId, publisherId: 'http-pub', path: '/data/rec/http.flv', startedAt: 1, endedAt: 2, durationMs: 1000, size: 10 } });
      const send = (headers: Record<string, string>, b = body) => fetch(`${s.url}/api/v1/callback/media`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: b });
      const headers = signMediaCallback(MEDIA_KEY, body);
      assert.equal((await send(headers)).status, 200);
      assert.equal((await send(headers)).status, 401, 'replayed signature');
      assert.equal((await send(signMediaCallback('wrong', body))).status, 401);
      assert.equal((await send(signMediaCallback(MEDIA_KEY, body, Date.now() - 6 * 60_000))).status, 401);
      assert.equal((await send(signMediaCallback(MEDIA_KEY, '{"event":"nope"}'), '{"event":"nope"}')).status, 400);
      await until(async () => (await s.count('live_records', 'identity = ?', ['media:100:http-pub:/data/rec/http.flv'])) === 1, 10_000, 'record via HTTP');
      const reasons = (await s.events.recent({ status: 'refused', limit: 20 })).map((r) => r.reason);
      for (const r of ['replayed', 'bad_signature', 'stale_timestamp']) assert.ok(reasons.includes(r), `${r} logged`);
    });
  });
}
