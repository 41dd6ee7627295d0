import { describe, it, after as afterAll } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { InvalidStateError, ValidationError } from '../errors.js';
import { waitFor } from '../testing/wait-for.js';
import type { Delivery, PubSub } from './pubsub.port.js';
import { MAX_MESSAGE_CHARS } from './wire.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface PubSubClusterOptions {
  historySize?: number;
  historyTtlMs?: number;
}

/** Nodes that share one broker (one Redis, or one in-process hub): each node() is one control process. */
export interface PubSubCluster {
  node(): Promise<PubSub>;
  /** How many nodes the broker delivers `channel` to (Redis: PUBSUB NUMSUB). */
  numSub(channel: string): Promise<number>;
  /** Cuts every broker connection of the cluster's nodes (Redis: CLIENT KILL); absent when there is no connection to cut. */
  dropConnections?(): Promise<void>;
  close(): Promise<void>;
}

/** Collects deliveries of one subscription. */
function recorder() {
  const got: Delivery[] = [];
  const handler = (d: Delivery) => void got.push(d);
  return { got, handler, messages: () => got.map((d) => d.message) };
}

/**
 * The behaviour every PubSub adapter shares. Channels carry a fresh uuid per test, so the suite
 * can run against a Redis other tests use at the same time.
 */
export function describePubSubContract(name: string, makeCluster: (options?: PubSubClusterOptions) => Promise<PubSubCluster>, features: { dropsConnections: boolean }): void {
  describe(`PubSub contract: ${name}`, () => {
    const clusters: PubSubCluster[] = [];
    const cluster = async (options?: PubSubClusterOptions) => {
      const c = await makeCluster(options);
      clusters.push(c);
      return c;
    };
    const ch = (label: string) => `room:${randomUUID()}:${label}`;
    afterAll(async () => {
      for (const c of clusters) await c.close();
    });

    it('delivers a message to every subscriber of its channel on every node, and to no other channel', async () => {
      const c = await cluster();
      const [a, b] = [await c.node(), await c.node()];
      const room = ch('r');
      const other = ch('other');
      const a1 = recorder(), a2 = recorder(), b1 = recorder(), elsewhere = recorder();
      await a.subscribe(room, a1.handler);
      await a.subscribe(room, a2.handler);
      await b.subscribe(room, b1.handler);
      await b.subscribe(other, elsewhere.handler);
      await a.publish(room, { text: 'from a' });
      await b.publish(room, 'from b');
      for (const r of [a1, a2, b1]) await waitFor('both messages on every subscriber', () => r.got.length === 2);
      for (const r of [a1, a2, b1]) {
        assert.deepEqual(new Set(r.messages().map((m) => JSON.stringify(m))), new Set(['{"text":"from a"}', '"from b"']));
        assert.ok(r.got.every((d) => d.channel === room && d.id === undefined));
      }
      // A fence on the other channel, published after: once it arrived, anything misrouted would have too.
      await a.publish(other, 'fence');
      await waitFor('the fence', () => elsewhere.got.length === 1);
      assert.deepEqual(elsewhere.messages(), ['fence']);
      assert.equal(a1.got.length, 2);
    });

    it('says which channels some node receives (listened), in the order asked', async () => {
      const c = await cluster();
      const [a, b] = [await c.node(), await c.node()];
      const [x, y, z] = [ch('x'), ch('y'), ch('z')];
      const stop = await b.subscribe(y, () => undefined);
      await a.subscribe(z, () => undefined);
      assert.deepEqual(await a.listened([x, y, z]), [y, z]);
      assert.deepEqual(await b.listened([]), []);
      await stop();
      assert.deepEqual(await a.listened([z, y, x]), [z]);
      await assert.rejects(a.listened(['bad channel!']), TypeError);
    });

    it('never runs a subscriber inside the publisher\'s call stack', async () => {
      const c = await cluster();
      const a = await c.node();
      const room = ch('async');
      let publishing = false;
      const seen: boolean[] = [];
      await a.subscribe(room, () => void seen.push(publishing));
      publishing = true;
      const done = a.publish(room, 1);
      publishing = false;
      await done;
      await waitFor('delivery', () => seen.length === 1);
      assert.deepEqual(seen, [false]);
    });

    it('keeps the order of one publisher on one channel', async () => {
      const c = await cluster();
      const [a, b] = [await c.node(), await c.node()];
      const room = ch('order');
      const r = recorder();
      await b.subscribe(room, r.handler);
      // Not awaited one by one: concurrent publishes from one node still arrive in call order.
      const sends: Array<Promise<unknown>> = [];
      for (let i = 0; i < 300; i++) sends.push(i % 3 === 0 ? a.publishKept(room, i) : a.publish(room, i));
      await Promise.all(sends);
      await waitFor('all 300', () => r.got.length === 300);
      assert.deepEqual(r.messages(), Array.from({ length: 300 }, (_, i) => i));
    });

    it('unsubscribe stops delivery, is idempotent, and the last local subscriber releases the node\'s subscription', async () => {
      const c = await cluster();
      const [a, b] = [await c.node(), await c.node()];
      const room = ch('unsub');
      const a1 = recorder(), a2 = recorder(), b1 = recorder();
      const offA1 = await a.subscribe(room, a1.handler);
      const offA2 = await a.subscribe(room, a2.handler);
      await b.subscribe(room, b1.handler);
      assert.equal(await c.numSub(room), 2, 'two local subscribers on node a cost one subscription');
      await offA1();
      await offA1();
      assert.equal(await c.numSub(room), 2, 'a still has a subscriber');
      await b.publish(room, 'one');
      await waitFor('one on a2 and b1', () => a2.got.length === 1 && b1.got.length === 1);
      await offA2();
      await waitFor('a released its subscription', async () => (await c.numSub(room)) === 1);
      await b.publish(room, 'two');
      await waitFor('two on b1', () => b1.got.length === 2);
      await sleep(50);
      assert.deepEqual(a1.messages(), []);
      assert.deepEqual(a2.messages(), ['one']);
      // Subscribing again after the release works (a fresh broker subscription).
      const again = recorder();
      await a.subscribe(room, again.handler);
      await b.publish(room, 'three');
      await waitFor('three on the new subscriber', () => again.got.length === 1);
    });

    it('concurrent subscribes to one channel share one subscription and all receive', async () => {
      const c = await cluster();
      const a = await c.node();
      const room = ch('concurrent');
      const rs = Array.from({ length: 5 }, recorder);
      const offs = await Promise.all(rs.map((r) => a.subscribe(room, r.handler)));
      assert.equal(await c.numSub(room), 1);
      await a.publish(room, 'x');
      for (const r of rs) await waitFor('x everywhere', () => r.got.length === 1);
      await Promise.all(offs.map((off) => off()));
      await waitFor('released', async () => (await c.numSub(room)) === 0);
    });

    it('unsubscribing inside a handler stops a later handler of the same message', async () => {
      const c = await cluster();
      const a = await c.node();
      const room = ch('inside');
      const second = recorder();
      let offSecond: (() => Promise<void>) | undefined;
      await a.subscribe(room, () => void offSecond?.());
      offSecond = await a.subscribe(room, second.handler);
      await a.publish(room, 'x');
      await a.publish(room, 'y');
      await sleep(100);
      assert.deepEqual(second.messages(), []);
    });

    it('carries JSON values as JSON does; refuses what JSON cannot carry, oversized messages and bad channels', async () => {
      const c = await cluster();
      const [a, b] = [await c.node(), await c.node()];
      const room = ch('json');
      const r1 = recorder(), r2 = recorder();
      await b.subscribe(room, r1.handler);
      await b.subscribe(room, r2.handler);
      const when = new Date('2024-05-01T10:00:00Z');
      const values = [{ text: 'hi', n: 1.5, ok: true, none: null, list: [1, 'two', { three: 3 }] }, 'plain', 42, null, [], { when, gone: undefined }];
      for (const v of values) await a.publish(room, v as never);
      await waitFor('every value', () => r1.got.length === values.length && r2.got.length === values.length);
      assert.deepEqual(r1.messages(), [values[0], 'plain', 42, null, [], { when: '2024-05-01T10:00:00.000Z' }]);
      assert.equal(r1.got[0]!.message, r2.got[0]!.message, 'one decoded value per node, shared by its handlers');
      assert.ok(Object.isFrozen(r1.got[0]));
      await assert.rejects(a.publish(room, undefined as never), TypeError);
      await assert.rejects(a.publish(room, (() => 1) as never), TypeError);
      await assert.rejects(a.publish(room, 'x'.repeat(MAX_MESSAGE_CHARS)), TypeError);
      await a.publish(room, 'x'.repeat(MAX_MESSAGE_CHARS - 2)); // exactly at the cap once quoted
      for (const bad of ['', 'room 1', 'room:1\n', 'a'.repeat(201), '../x', 'ch*']) {
        await assert.rejects(a.publish(bad, 1), TypeError, bad);
        await assert.rejects(a.subscribe(bad, () => undefined), TypeError, bad);
      }
      await assert.rejects(a.subscribe(room, 'nope' as never), TypeError);
    });

    it('a throwing or rejecting handler does not stop the others', async () => {
      const c = await cluster();
      const a = await c.node();
      const room = ch('throws');
      const r = recorder();
      await a.subscribe(room, () => { throw new Error('sync boom'); });
      await a.subscribe(room, async () => { throw new Error('async boom'); });
      await a.subscribe(room, r.handler);
      await a.publish(room, 1);
      await a.publish(room, 2);
      await waitFor('both', () => r.got.length === 2);
    });

    it('publishKept delivers with the id it returns, and recent() pages the kept messages', async () => {
      const c = await cluster({ historySize: 50 });
      const [a, b] = [await c.node(), await c.node()];
      const room = ch('kept');
      const r = recorder();
      await b.subscribe(room, r.handler);
      const ids: string[] = [];
      for (let i = 0; i < 10; i++) ids.push(await a.publishKept(room, { i }));
      await a.publish(room, 'not kept');
      await waitFor('11 deliveries', () => r.got.length === 11);
      assert.deepEqual(r.got.slice(0, 10).map((d) => d.id), ids);
      assert.equal(r.got[10]!.id, undefined);
      assert.equal(new Set(ids).size, 10);
      for (const [i, id] of ids.entries()) assert.match(id, /^\d+-\d+$/, `id ${i}`);

      const all = await b.recent(room);
      assert.deepEqual(all.entries.map((e) => e.id), ids, 'oldest first, plain publishes are not kept');
      assert.deepEqual(all.entries.map((e) => e.message), Array.from({ length: 10 }, (_, i) => ({ i })));
      assert.equal(all.gap, false);
      assert.deepEqual((await b.recent(room, { limit: 3 })).entries.map((e) => e.id), ids.slice(7), 'the newest 3');
      const missed = await b.recent(room, { after: ids[6] });
      assert.deepEqual(missed.entries.map((e) => e.message), [{ i: 7 }, { i: 8 }, { i: 9 }]);
      assert.equal(missed.gap, false);
      assert.deepEqual((await b.recent(room, { after: ids[2], limit: 2 })).entries.map((e) => e.id), ids.slice(3, 5));
      assert.deepEqual((await b.recent(room, { after: ids[9] })).entries, []);
      assert.deepEqual((await b.recent(room, { limit: 500 })).entries.length, 10, 'limit above the size is capped');

      await assert.rejects(b.recent(room, { after: 'yesterday' }), ValidationError);
      await assert.rejects(b.recent(room, { after: '1-2-3' }), ValidationError);
      await assert.rejects(b.recent(room, { limit: 0 }), TypeError);
      assert.deepEqual(await b.recent(ch('empty')), { entries: [], gap: false });
      assert.equal((await b.recent(ch('empty'), { after: ids[0] })).gap, true, 'an id into a history that is gone missed messages');
    });

    it('the history is capped: a client older than the cap is told it missed messages', async () => {
      const c = await cluster({ historySize: 5 });
      const a = await c.node();
      const room = ch('cap');
      const ids: string[] = [];
      for (let i = 0; i < 12; i++) ids.push(await a.publishKept(room, i));
      const latest = await a.recent(room);
      assert.deepEqual(latest.entries.map((e) => e.message), [7, 8, 9, 10, 11]);
      const old = await a.recent(room, { after: ids[2] });
      assert.equal(old.gap, true, 'messages 3..6 are gone');
      assert.deepEqual(old.entries.map((e) => e.message), [7, 8, 9, 10, 11]);
      const boundary = await a.recent(room, { after: ids[6] });
      assert.equal(boundary.gap, false, 'the client saw the last dropped message: nothing missed');
      assert.deepEqual(boundary.entries.map((e) => e.message), [7, 8, 9, 10, 11]);
    });

    it('a resuming subscriber gets exactly what it missed', async () => {
      const c = await cluster();
      const [a, b] = [await c.node(), await c.node()];
      const room = ch('resume');
      const r = recorder();
      const off = await b.subscribe(room, r.handler);
      for (let i = 0; i < 5; i++) await a.publishKept(room, i);
      await waitFor('5', () => r.got.length === 5);
      await off();
      for (let i = 5; i < 9; i++) await a.publishKept(room, i);
      const lastSeen = r.got.at(-1)!.id!;
      const page = await b.recent(room, { after: lastSeen });
      assert.deepEqual(page.entries.map((e) => e.message), [5, 6, 7, 8]);
      assert.equal(page.gap, false);
    });

    it('an idle history expires', async () => {
      const c = await cluster({ historyTtlMs: 1_000 });
      const a = await c.node();
      const room = ch('ttl');
      const id = await a.publishKept(room, 'soon gone');
      assert.equal((await a.recent(room)).entries.length, 1);
      await waitFor('expiry', async () => (await a.recent(room)).entries.length === 0, 5_000);
      assert.deepEqual(await a.recent(room, { after: id }), { entries: [], gap: true });
      const next = await a.publishKept(room, 'new');
      assert.deepEqual((await a.recent(room, { after: id })), { entries: [{ id: next, message: 'new' }], gap: true },
        'a restarted history still tells an old client it missed messages');
    });

    it('close() is idempotent, later calls throw InvalidStateError, and the other nodes carry on', async () => {
      const c = await cluster();
      const [a, b] = [await c.node(), await c.node()];
      const room = ch('close');
      const ra = recorder(), rb = recorder();
      const offA = await a.subscribe(room, ra.handler);
      await b.subscribe(room, rb.handler);
      await a.close();
      await a.close();
      await offA();
      await assert.rejects(a.publish(room, 1), InvalidStateError);
      await assert.rejects(a.publishKept(room, 1), InvalidStateError);
      await assert.rejects(a.subscribe(room, () => undefined), InvalidStateError);
      await assert.rejects(a.recent(room), InvalidStateError);
      await waitFor('a closed node no longer receives', async () => (await c.numSub(room)) === 1);
      await b.publish(room, 'after');
      await waitFor('b still receives', () => rb.got.length === 1);
      await sleep(50);
      assert.deepEqual(ra.got, []);
    });

    // Only adapters with connections can lose them (the in-process hub has none): not a skip, which CI would count.
    if (features.dropsConnections) it('subscriptions come back after the broker connections drop', async () => {
      const c = await cluster();
      assert.ok(c.dropConnections);
      const [a, b] = [await c.node(), await c.node()];
      const room = ch('reconnect');
      const r = recorder();
      await b.subscribe(room, r.handler);
      await a.publish(room, 'before');
      await waitFor('before', () => r.got.length === 1);
      let resubscribed = 0;
      const stopListening = b.onResubscribed(() => resubscribed++);
      await c.dropConnections();
      // The listener runs once b's subscriptions are back: what is published from then on reaches b.
      await waitFor('b tells its listeners it is subscribed again', () => resubscribed >= 1, 15_000, 20);
      const marker = await a.publishKept(room, 'right after the resubscription');
      await waitFor('the first message after the listener ran', () => r.got.some((d) => d.id === marker));
      stopListening();
      // Pub/sub is not durable: probes sent while b reconnects are lost, so keep probing until one arrives.
      await waitFor('a probe after the reconnect', async () => {
        await a.publish(room, 'probe').catch(() => undefined);
        return r.messages().includes('probe');
      }, 15_000, 100);
      assert.equal(await c.numSub(room), 1, 'b subscribed again, once');
      const id = await a.publishKept(room, 'kept after');
      await waitFor('kept after', () => r.got.some((d) => d.id === id));
    });
  });
}
