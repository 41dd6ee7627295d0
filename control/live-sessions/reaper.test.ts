import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../core/logging/logger.js';
import { until } from '../../core/event-bus/event-bus.contract.js';
import type { StreamStats } from '../../core/media/media-contract.js';
import { busChoices, makeCallbackStack, type CallbackStack } from '../callbacks/testing/callback-stack.js';
import { Reaper } from './reaper.js';

const stats = (roomId: string, publisherId: string, at: number): StreamStats => ({
  streamName: roomId, publisherId, at, bitrateInKbps: 1000, bitrateOutKbps: 0,
  viewers: { rtmp: 0, 'http-flv': 1, 'ws-flv': 0, hls: 0, webrtc: 0 }, videoFrames: 1, audioFrames: 1, bytesIn: 1, bytesOut: 1,
});

for (const { set, bus } of busChoices().filter((c) => c.bus.name === 'DbEventBus')) {
  describe(`reaper on ${set.name}`, () => {
    let s: CallbackStack;
    before(async () => { s = await makeCallbackStack(set, bus, { overrides: { live: { heartbeatTimeout: 600 } } }); });
    after(async () => { await s.close(); });

    it('ends (close_method 3) a live session whose publisher vanished without a close event, and spares one with a heartbeat', async () => {
      const ghost = await s.anchorWithRoom();
      const alive = await s.anchorWithRoom();
      for (const a of [ghost, alive]) {
        await s.sessions.start({ id: a.userId, username: 'a', role: 'anchor' }, a.roomId);
        await s.sessions.markLive({ streamName: a.roomId, app: 'live', publisherId: `p-${a.roomId}`, clientIp: '10.0.0.1', at: Date.now() });
      }
      const reaper = new Reaper({
        sessionStore: s.sessionStore, sessions: s.sessions, cache: s.ports.cache, heartbeatTimeoutMs: 600, intervalMs: 150, log: silentLogger(),
      });
      reaper.start();
      // The last beat may still be running when the test ends: keep it, so the stack closes after it.
      let lastBeat: Promise<unknown> = Promise.resolve();
      const beat = setInterval(() => { lastBeat = s.sessions.heartbeat(stats(alive.roomId, `p-${alive.roomId}`, Date.now())).catch(() => undefined); }, 100);
      try {
        // The ghost's publisher is gone: no stats, no publish.ended. The reaper ends it after ~600 ms.
        await until(async () => (await s.sessionStore.findActiveByRoom(ghost.roomId)) === null, 10_000, 'ghost reaped');
        const ended = (await s.sessionStore.listByStatus('ended', 100)).find((x) => x.roomId === ghost.roomId)!;
        assert.equal(ended.closeMethod, 3);
        assert.equal(ended.closeReason, 'heartbeat lost');
        await until(async () => !(await s.ports.cache.sIsMember('set:live:online', ghost.roomId)), 5000, 'online set cleaned');
        await new Promise((r) => setTimeout(r, 800));
        assert.equal((await s.sessionStore.findActiveByRoom(alive.roomId))?.status, 'live', 'a heartbeating session stays live');
        // Redis keys carry TTLs, so a crashed node cannot keep a room live forever.
        const ttl = await s.ports.cache.ttl(`hash:anchor:status:${alive.userId}`);
        assert.ok(ttl > 0, `anchor status has a TTL (${ttl})`);
      } finally {
        clearInterval(beat);
        await lastBeat;
        await reaper.stop();
      }
    });
  });
}
