/**
 * Every domain event of the catalog has its one route (durable: control's consumer; fan-out: the
 * intake), or is listed in `unroutedEvents` with the reason; and the routes of session.ended
 * (settlement) and replay.ready (followers' notices) do what they say, and a version the consumer
 * does not know is dead-lettered at once, on both adapter sets.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { until } from '../core/event-bus/event-bus.contract.js';
import { waitFor } from '../core/testing/wait-for.js';
import { domainEventSpecs, type DomainEventName } from '../core/events/domain-events.js';
import { eventIds } from '../core/events/event-route.js';
import { eventRoutes, fanOutRoutes, unroutedEvents, type EventRouteDeps } from './event-routes.js';
import { busChoices, makeCallbackStack, type CallbackStack } from './callbacks/testing/callback-stack.js';

describe('the event catalog\'s routes', () => {
  it('route every durable event once, or say why not; every fan-out event has its route', () => {
    const routes = eventRoutes({} as EventRouteDeps);
    // control/main.ts passes the audience handlers (audience.entered / exited); routes are only built here, not run.
    const fanOut = fanOutRoutes({ audienceEvents: { entered: async () => undefined, exited: async () => undefined } } as unknown as Parameters<typeof fanOutRoutes>[0]);
    for (const name of Object.keys(domainEventSpecs) as DomainEventName[]) {
      if (domainEventSpecs[name].durable) {
        const routed = name in routes;
        const reason = (unroutedEvents as Record<string, string | undefined>)[name];
        assert.ok(routed !== (reason !== undefined), `${name}: a route or a reason in unroutedEvents (not both, not neither)`);
      } else {
        assert.ok(name in fanOut, `${name}: a fan-out route`);
      }
    }
  });
});

for (const { set, bus } of busChoices()) {
  describe(`session.ended and replay.ready routes on ${set.name} with ${bus.name}`, () => {
    let s: CallbackStack;
    before(async () => { s = await makeCallbackStack(set, bus); });
    after(async () => { await s.close(); });

    it('session.ended settles the show even when the in-process settlement was lost', async () => {
      const a = await s.anchorWithRoom();
      const anchor = { id: a.userId, username: 'a', role: 'anchor' as const };
      const { session } = await s.sessions.start(anchor, a.roomId);
      const ended = await s.sessions.endSession(session.id, 1, 'anchor');
      await until(async () => (await s.count('live_statistics', 'session_id = ?', [session.id])) === 1, 10_000, 'in-process settlement');
      // A process that died before its scheduled settlement: no statistics row.
      await s.ports.db.sequelize.query('DELETE FROM live_statistics WHERE session_id = ?', { replacements: [session.id] });
      const eventId = eventIds.sessionEnded(session.id);
      await s.bus.publish('session.ended', {
        eventId, at: Date.now(), sessionId: session.id, roomId: a.roomId, anchorId: a.userId, closeMethod: 1, reason: 'anchor',
        startedAt: ended.startAt?.getTime() ?? null, durationMs: 0,
      }, { key: a.roomId });
      await until(async () => (await s.count('event_processed', 'event_id = ?', [eventId])) === 1, 10_000, 'session.ended processed');
      assert.equal(await s.count('live_statistics', 'session_id = ?', [session.id]), 1, 'settled by the route');
    });

    it('an event of a version the consumer does not know is dead-lettered at once, saying so, and has no effect', async () => {
      const a = await s.anchorWithRoom();
      const fan = await s.users.create({ username: `v2fan${Date.now()}`, passwordHash: 'x', role: 'viewer' });
      await s.ports.db.sequelize.query('INSERT INTO follows (user_id, anchor_id, created_at) VALUES (?, ?, ?)', { replacements: [fan.id, a.userId, Date.now()] });
      const eventId = `session.live:v2test:${Date.now()}`;
      const busId = await s.bus.publish('session.live', { eventId, at: Date.now(), sessionId: '123', roomId: a.roomId, anchorId: a.userId }, { key: a.roomId, version: 2 });
      const letter = await waitFor('dead letter', async () => (await s.bus.listDead({ group: 'callbacks', limit: 1000 })).find((d) => d.eventId === busId), 10_000);
      assert.equal(letter!.attempts, 1, 'no retries: retrying cannot teach the consumer v2');
      assert.match(letter!.lastError, /^RejectedEventError: session\.live v2 is not a version this consumer knows \(it reads v1\)/);
      assert.equal(await s.count('event_processed', 'event_id = ?', [eventId]), 0);
      assert.equal(await s.count('notifications', 'user_id = ?', [fan.id]), 0);
      await s.events.flush();
      assert.equal(await s.count('live_events', "identity = ? AND status = 'dead'", [eventId]), 1, 'live_events says it died');
    });

    it('replay.ready of many short shows in a row (a restart loop with recording on) is one notice, not one per show', async () => {
      const a = await s.anchorWithRoom();
      const anchor = { id: a.userId, username: 'a', role: 'anchor' as const };
      const fan = await s.users.create({ username: `loopfan${Date.now()}`, passwordHash: 'x', role: 'viewer' });
      await s.ports.db.sequelize.query('INSERT INTO follows (user_id, anchor_id, created_at) VALUES (?, ?, ?)', { replacements: [fan.id, a.userId, Date.now()] });
      const base = Date.now();
      for (let i = 0; i < 4; i++) {
        // A short show: live, ended, recorded; its replay is announced.
        const { session } = await s.sessions.start(anchor, a.roomId);
        await s.sessions.markLive({ streamName: a.roomId, app: 'live', publisherId: `p${i}`, sessionId: session.id, clientIp: '127.0.0.1', at: Date.now() });
        await s.sessions.endSession(session.id, 1, 'restart');
        await s.bus.publish('replay.ready', {
          eventId: `replay.ready:loop:${base}:${i}`, at: Date.now(), replayId: `${base}${i}`, roomId: a.roomId, sessionId: session.id,
          objectKey: `replays/${a.roomId}/loop/${i}.mp4`, posterKey: null, durationMs: 2_000, size: 1000,
        }, { key: a.roomId });
      }
      await until(async () => (await s.count('event_processed', 'event_id LIKE ?', [`replay.ready:loop:${base}:%`])) === 4, 10_000, 'all four processed');
      assert.equal(await s.count('notifications', "user_id = ? AND kind = 'replay_ready'", [fan.id]), 1, 'four short shows within a minute: one replay notice');
    });

    it('replay.ready tells the anchor\'s followers once per replay (two segments, one notice)', async () => {
      const a = await s.anchorWithRoom();
      const fan = await s.users.create({ username: `replayfan${Date.now()}`, passwordHash: 'x', role: 'viewer' });
      const other = await s.users.create({ username: `stranger${Date.now()}`, passwordHash: 'x', role: 'viewer' });
      await s.ports.db.sequelize.query('INSERT INTO follows (user_id, anchor_id, created_at) VALUES (?, ?, ?)', { replacements: [fan.id, a.userId, Date.now()] });
      const replayId = `${Date.now()}`;
      for (const segment of [0, 1]) {
        await s.bus.publish('replay.ready', {
          eventId: `replay.ready:test:${replayId}:${segment}`, at: Date.now(), replayId, roomId: a.roomId,
          objectKey: `replays/${a.roomId}/p/${segment}.mp4`, posterKey: null, durationMs: 60_000, size: 1000,
        }, { key: a.roomId });
      }
      await until(async () => (await s.count('event_processed', 'event_id LIKE ?', [`replay.ready:test:${replayId}:%`])) === 2, 10_000, 'both processed');
      assert.equal(await s.count('notifications', "user_id = ? AND kind = 'replay_ready'", [fan.id]), 1);
      assert.equal(await s.count('notifications', "user_id = ? AND kind = 'replay_ready'", [other.id]), 0);
      const [row] = await s.ports.db.sequelize.query('SELECT payload FROM notifications WHERE user_id = ? AND kind = ?', { replacements: [fan.id, 'replay_ready'], plain: false }) as [Array<{ payload: string }>, unknown];
      assert.equal(JSON.parse(String(row[0]!.payload)).replay_id, replayId);
    });
  });
}
