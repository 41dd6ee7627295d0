import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testAdapterSets } from '../../core/testing/test-ports.js';
import { roomChannel } from '../../core/pubsub/wire.js';
import { startTcpProxy } from '../../core/testing/tcp-proxy.js';
import { ChatClient, makeChatKit, type ChatKit } from '../testing/chat-kit.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Moderation that must reach every control node even when no message carries it at the right
 * moment: the end of a timed pause (no node's timer survives that node, so it is a due time in the
 * cache that the nodes' sweepers claim), and a kick published while one node's Redis connection
 * was down (that node re-checks its sockets' kicks when its subscriptions are back).
 */
for (const set of testAdapterSets()) {
  describe(`moderation across control nodes on ${set.name}`, () => {
    let kit: ChatKit;
    before(async () => {
      kit = await makeChatKit(set, { chat: { rate: 'off' } });
      await kit.node();
    });
    after(async () => {
      await kit?.close();
    });

    it('announces the end of a timed moderation pause once, from whichever node claims it', async () => {
      const [a, b] = kit.nodes;
      const op = await kit.operator();
      const { roomId, anchor } = await kit.liveRoom();
      const viewer = await kit.user();
      const until = Date.now() + 2500;
      await a!.http.post(`/api/v1/admin/users/${anchor.id}/publish-ban`).set(op.auth).send({ until: new Date(until).toISOString(), reason: 'wait' }).expect(201);
      // One socket on each node, on the room (the session ended with the pause).
      const other = await kit.user();
      const cb = await ChatClient.connect(`${b!.ws}/ws?token=${viewer.token}&room_id=${roomId}`);
      const ca = await ChatClient.connect(`${a!.ws}/ws?token=${other.token}&room_id=${roomId}`);
      await cb.next((m) => m.type === 'notice' && m.code === 'stream_paused', 'the pause (from history)');
      const resumed = await cb.next((m) => m.type === 'notice' && m.code === 'stream_resumed', 'stream_resumed when the pause ends', 0, 20_000);
      assert.equal(resumed.reason, 'expired');
      assert.equal(resumed.until, until);
      assert.ok(Date.now() >= until, 'not before the end');
      await ca.next((m) => m.type === 'notice' && m.code === 'stream_resumed', 'stream_resumed on node A too');
      // Both nodes sweep every second: give them several rounds to announce it again (they must not).
      await sleep(3000);
      assert.equal(cb.messages.filter((m) => m.code === 'stream_resumed').length, 1);
      assert.equal(ca.messages.filter((m) => m.code === 'stream_resumed').length, 1);
      const kept = (await a!.pubsub.recent(roomChannel(roomId))).entries.filter((e) => (e.message as { code?: string }).code === 'stream_resumed');
      assert.equal(kept.length, 1, 'one stream_resumed in the room history');
      ca.close();
      cb.close();
    });

    it('a pause extended by a later ban is announced at its new end, not the first one', async () => {
      const [a, b] = kit.nodes;
      const op = await kit.operator();
      const { roomId, anchor } = await kit.liveRoom();
      const viewer = await kit.user();
      const first = Date.now() + 2000;
      await a!.http.post(`/api/v1/admin/users/${anchor.id}/publish-ban`).set(op.auth).send({ until: new Date(first).toISOString(), reason: 'wait' }).expect(201);
      const c = await ChatClient.connect(`${b!.ws}/ws?token=${viewer.token}&room_id=${roomId}`);
      await c.next((m) => m.type === 'notice' && m.code === 'stream_paused', 'the pause');
      const second = Date.now() + 6000;
      await a!.http.post(`/api/v1/admin/users/${anchor.id}/publish-ban`).set(op.auth).send({ until: new Date(second).toISOString(), reason: 'longer' }).expect(201);
      const resumed = await c.next((m) => m.type === 'notice' && m.code === 'stream_resumed', 'stream_resumed at the new end', 0, 25_000);
      assert.equal(resumed.until, second);
      assert.ok(Date.now() >= second, 'not at the first end');
      await sleep(2500);
      assert.equal(c.messages.filter((m) => m.code === 'stream_resumed').length, 1);
      c.close();
    });

    it('an operator lifting a pause early is announced once, and its end is not announced again', async () => {
      const [a, b] = kit.nodes;
      const op = await kit.operator();
      const { roomId, anchor } = await kit.liveRoom();
      const viewer = await kit.user();
      await a!.http.post(`/api/v1/admin/users/${anchor.id}/publish-ban`).set(op.auth).send({ until: new Date(Date.now() + 2000).toISOString(), reason: 'wait' }).expect(201);
      const c = await ChatClient.connect(`${b!.ws}/ws?token=${viewer.token}&room_id=${roomId}`);
      await c.next((m) => m.type === 'notice' && m.code === 'stream_paused', 'the pause');
      await a!.http.delete(`/api/v1/admin/users/${anchor.id}/publish-ban`).set(op.auth).expect(200);
      assert.equal((await c.next((m) => m.type === 'notice' && m.code === 'stream_resumed', 'stream_resumed')).reason, 'lifted');
      await sleep(3500); // past the pause's original end, several sweeps
      assert.equal(c.messages.filter((m) => m.code === 'stream_resumed').length, 1);
      c.close();
    });
  });
}

// Only Redis connections can drop (the in-process hub has none): this runs on the Redis set alone.
const redisSet = testAdapterSets().find((s) => s.name !== 'embedded');
if (redisSet) {
  describe(`a kick across a Redis blip on ${redisSet.name}`, () => {
    let kit: ChatKit;
    after(async () => {
      await kit?.close();
    });

    it('closes the kicked viewer\'s socket on a node whose pub/sub connection was down when the kick was published', async () => {
      kit = await makeChatKit(redisSet, { chat: { rate: 'off' } });
      const a = kit.nodes[0]!;
      // Node B reaches Redis for pub/sub through a proxy this test cuts (its cache and database are direct).
      const redisUrl = new URL(process.env.ONAIR_TEST_REDIS_URL!);
      const proxy = await startTcpProxy(Number(redisUrl.port || 6379), redisUrl.hostname);
      try {
        const viaProxy = new URL(redisUrl);
        viaProxy.port = String(proxy.port);
        viaProxy.hostname = '127.0.0.1';
        const b = await kit.node({ pubsub: await kit.cluster.nodeVia!(viaProxy.toString()) });
        const { roomId, anchor } = await kit.liveRoom();
        const viewer = await kit.user();
        const c = await ChatClient.connect(`${b.ws}/ws?token=${viewer.token}&room_id=${roomId}`);
        await c.next((m) => m.type === 'welcome', 'welcome');
        assert.equal(await kit.cluster.numSub(roomChannel(roomId)), 1, 'only node B serves the room');

        proxy.cut();
        const kick = await a.http.post(`/api/v1/rooms/${roomId}/kick`).set(anchor.auth).send({ user_id: viewer.id, duration: '10m' });
        assert.equal(kick.status, 200, JSON.stringify(kick.body));
        await sleep(1000);
        // The `kicked` message was published while B could not receive it: the socket is still open.
        assert.equal(c.ws.readyState, c.ws.OPEN, 'the kick message was lost for node B (the blip happened)');
        const restored = Date.now();
        proxy.restore();
        // Bound: B's subscriber reconnects (ioredis retries within 2 s) and re-checks its sockets' kicks.
        const closed = await c.closedWithin(15_000);
        assert.equal(closed.code, 4003);
        assert.equal(closed.reason, 'kicked');
        const delay = Date.now() - restored;
        assert.ok(delay < 15_000, `closed ${delay} ms after the connection came back`);
      } finally {
        await proxy.close();
      }
    });
  });
}
