import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { AnyDelivery, EventBus } from './event-bus.port.js';
import { waitFor } from '../testing/wait-for.js';
import { RejectedEventError } from '../errors.js';

/** The catalog the contract suite publishes. */
type ContractEvents = {
  'test.numbered': { n: number; run: string };
  'test.other': { label: string };
};

export interface ContractFactory {
  /** A bus over storage that outlives it: a second call sees the first bus's events (a restart). */
  make(): Promise<EventBus<ContractEvents>>;
  destroy(): Promise<void>;
}

/** Waits until `check()` is true, polling every 10 ms; fails after `ms`. */
export async function until(check: () => boolean | Promise<boolean>, ms = 10_000, what = 'condition'): Promise<void> {
  await waitFor(what, check, ms, 10);
}

let groupSeq = 0;
const newGroup = () => `g${process.pid}x${Date.now().toString(36)}x${groupSeq++}`;
const fast = { pollIntervalMs: 50, backoffMs: 20, visibilityTimeoutMs: 400 };

/**
 * One suite, run against every adapter (STYLE §5; bullmq's adapter conformance tests): order,
 * resume after a restart, at-least-once after a lost consumer, retry then dead letter, replay.
 */
export function describeEventBusContract(name: string, factory: () => ContractFactory): void {
  describe(`EventBus contract: ${name}`, () => {
    let f: ContractFactory;
    let bus: EventBus<ContractEvents>;
    const run = Math.random().toString(36).slice(2);
    before(async () => {
      f = factory();
      bus = await f.make();
    });
    after(async () => {
      await bus.close();
      await f.destroy();
    });

    it('returns ordered ids and delivers same-key events in publish order', async () => {
      const ids: string[] = [];
      for (let n = 0; n < 60; n++) ids.push(await bus.publish('test.numbered', { n, run: `${run}-order` }, { key: 'k1' }));
      assert.deepEqual([...ids].sort(compareBusIds), ids, 'ids grow with publish order');
      const seen: number[] = [];
      const c = bus.consume(newGroup(), async (d) => {
        if (d.name === 'test.numbered' && d.payload.run === `${run}-order`) {
          await new Promise((r) => setTimeout(r, Math.random() * 2));
          seen.push(d.payload.n);
        }
      }, { ...fast, batchSize: 7, concurrency: 8 });
      await until(() => seen.length >= 60, 10_000, '60 deliveries');
      await c.stop();
      assert.deepEqual(seen, Array.from({ length: 60 }, (_, i) => i));
    });

    it('delivers events published while consuming, and every group gets every event', async () => {
      const a: number[] = [];
      const b: number[] = [];
      const tag = `${run}-groups`;
      const ca = bus.consume(newGroup(), async (d) => { if (d.name === 'test.numbered' && d.payload.run === tag) a.push(d.payload.n); }, fast);
      const cb = bus.consume(newGroup(), async (d) => { if (d.name === 'test.numbered' && d.payload.run === tag) b.push(d.payload.n); }, fast);
      await Promise.all(Array.from({ length: 40 }, (_, n) => bus.publish('test.numbered', { n, run: tag })));
      await until(() => a.length >= 40 && b.length >= 40, 10_000, 'both groups');
      await Promise.all([ca.stop(), cb.stop()]);
      assert.deepEqual([...a].sort((x, y) => x - y), Array.from({ length: 40 }, (_, i) => i));
      assert.deepEqual([...b].sort((x, y) => x - y), Array.from({ length: 40 }, (_, i) => i));
    });

    it('resumes after a restart without re-delivering acknowledged events', async () => {
      const group = newGroup();
      const tag = `${run}-restart`;
      const seen: number[] = [];
      const handler = async (d: AnyDelivery<ContractEvents>) => { if (d.name === 'test.numbered' && d.payload.run === tag) seen.push(d.payload.n); };
      for (let n = 0; n < 10; n++) await bus.publish('test.numbered', { n, run: tag });
      const c1 = bus.consume(group, handler, fast);
      await until(() => seen.length >= 10, 10_000, 'first 10');
      await c1.stop();
      await bus.close();
      bus = await f.make(); // a new process over the same storage
      for (let n = 10; n < 15; n++) await bus.publish('test.numbered', { n, run: tag });
      const c2 = bus.consume(group, handler, fast);
      await until(() => seen.length >= 15, 10_000, 'the 5 new events');
      await new Promise((r) => setTimeout(r, 300)); // room for a wrong re-delivery to show
      await c2.stop();
      assert.deepEqual(seen, Array.from({ length: 15 }, (_, i) => i));
    });

    it('re-delivers an event whose consumer vanished mid-handling (at least once)', async () => {
      const group = newGroup();
      const tag = `${run}-lost`;
      let release!: () => void;
      const hung = new Promise<void>((r) => { release = r; });
      const byFirst: number[] = [];
      const bySecond: number[] = [];
      const c1 = bus.consume(group, async (d) => {
        if (d.name !== 'test.numbered' || d.payload.run !== tag) return;
        byFirst.push(d.payload.n);
        await hung; // this consumer "died" holding the event
      }, { ...fast, consumer: 'first' });
      await bus.publish('test.numbered', { n: 1, run: tag });
      await until(() => byFirst.length === 1, 10_000, 'first consumer took it');
      const c2 = bus.consume(group, async (d) => {
        if (d.name === 'test.numbered' && d.payload.run === tag) bySecond.push(d.payload.n);
      }, { ...fast, consumer: 'second' });
      await until(() => bySecond.length === 1, 10_000, 're-delivery to the second consumer');
      release();
      await Promise.all([c1.stop(), c2.stop()]);
      assert.deepEqual(bySecond, [1]);
    });

    it('retries a failing handler with backoff, then succeeds', async () => {
      const attempts: number[] = [];
      const times: number[] = [];
      const tag = `${run}-retry`;
      const c = bus.consume(newGroup(), async (d) => {
        if (d.name !== 'test.numbered' || d.payload.run !== tag) return;
        attempts.push(d.attempt);
        times.push(Date.now());
        if (d.attempt < 3) throw new Error(`transient failure ${d.attempt}`);
      }, { ...fast, maxAttempts: 3, backoffMs: 50 });
      await bus.publish('test.numbered', { n: 7, run: tag });
      await until(() => c.stats.processed >= 1 && attempts.length >= 3, 10_000, 'third attempt');
      await c.stop();
      assert.deepEqual(attempts, [1, 2, 3]);
      assert.ok(times[1]! - times[0]! >= 45, 'first backoff waited');
      assert.ok(times[2]! - times[1]! >= 95, 'second backoff doubled');
      assert.equal(c.stats.retried, 2);
      assert.equal(c.stats.dead, 0);
    });

    it('dead-letters an always-failing event with its last error, and replays it once fixed', async () => {
      const group = newGroup();
      const tag = `${run}-dead`;
      let fixed = false;
      const handled: number[] = [];
      const c = bus.consume(group, async (d) => {
        if (d.name !== 'test.numbered' || d.payload.run !== tag) return;
        if (!fixed) throw new Error(`database down (attempt ${d.attempt})`);
        handled.push(d.payload.n);
      }, { ...fast, maxAttempts: 3, backoffMs: 10 });
      const deadEvents: string[] = [];
      c.on('dead', (d) => deadEvents.push(d.id));
      const eventId = await bus.publish('test.numbered', { n: 42, run: tag });
      await until(() => deadEvents.length === 1, 10_000, 'dead letter');
      const dead = await bus.listDead({ group });
      assert.equal(dead.length, 1);
      assert.equal(dead[0]!.eventId, eventId);
      assert.equal(dead[0]!.attempts, 3);
      assert.match(dead[0]!.lastError, /database down \(attempt 3\)/);
      assert.deepEqual(dead[0]!.payload, { n: 42, run: tag });
      fixed = true;
      assert.equal(await bus.replayDead(dead[0]!.id), 1);
      await until(() => handled.length === 1, 10_000, 'replayed event handled');
      await c.stop();
      assert.deepEqual(handled, [42]);
      assert.equal((await bus.listDead({ group })).length, 0);
      assert.equal(await bus.replayDead(dead[0]!.id), 0, 'a replayed letter is gone');
    });

    it('counts a group\'s backlog (all, or by name) and its dead letters', async () => {
      const group = newGroup();
      const tag = `${run}-backlog`;
      // A group no consumer has registered yet counts every stored event.
      const stored = await bus.backlog(group);
      assert.ok(stored >= 1, `an unregistered group counts the stored events (${stored})`);
      let caughtUp = false;
      const c1 = bus.consume(group, async (d) => { if (d.name === 'test.other' && d.payload.label === `${tag}-mark`) caughtUp = true; }, fast);
      await bus.publish('test.other', { label: `${tag}-mark` });
      await until(() => caughtUp, 10_000, 'caught up');
      await c1.stop();
      assert.equal(await bus.backlog(group), 0, 'nothing left once the group caught up');
      for (let n = 0; n < 3; n++) await bus.publish('test.numbered', { n, run: tag });
      for (let n = 0; n < 5; n++) await bus.publish('test.other', { label: `${tag}-${n}` });
      assert.equal(await bus.backlog(group), 8);
      assert.equal(await bus.backlog(group, { names: ['test.other'] }), 5);
      assert.equal(await bus.backlog(group, { names: ['test.numbered', 'test.other'] }), 8);
      // Failing the five test.other on their only attempt: dead letters, out of the backlog.
      const total = async () => Object.values(await bus.countDead()).reduce((a, b) => a + b, 0);
      const deadBefore = await total();
      const c2 = bus.consume(group, async (d) => { if (d.name === 'test.other') throw new Error('refused'); }, { ...fast, maxAttempts: 1 });
      await until(async () => (await bus.countDead())[group] === 5, 10_000, 'five dead letters');
      await until(async () => (await bus.backlog(group)) === 0, 10_000, 'backlog drained');
      await c2.stop();
      assert.equal(await total(), deadBefore + 5, 'counted among all groups\' dead letters');
      // Replayed letters are the group's backlog again.
      assert.equal(await bus.replayDead('all', { group }), 5);
      assert.equal((await bus.countDead())[group], undefined, 'a group without dead letters is absent');
      assert.equal(await bus.backlog(group), 5);
      assert.equal(await bus.backlog(group, { names: ['test.other'] }), 5);
      const c3 = bus.consume(group, async () => {}, fast);
      await until(async () => (await bus.backlog(group)) === 0, 10_000, 'replays handled');
      await c3.stop();
    });

    it('carries each event\'s version (1 by default), through a dead letter and its replay; a rejected event is dead at once', async () => {
      const group = newGroup();
      const tag = `${run}-version`;
      const seen: Array<[number, number]> = [];
      let accept = false;
      const c = bus.consume(group, async (d) => {
        if (d.name !== 'test.numbered' || d.payload.run !== tag) return;
        if (d.version === 2 && !accept) throw new RejectedEventError(`test.numbered v${d.version} is unknown here`);
        seen.push([d.payload.n, d.version]);
      }, { ...fast, maxAttempts: 3 });
      const dead: number[] = [];
      c.on('dead', (d) => dead.push(d.attempt));
      await bus.publish('test.numbered', { n: 1, run: tag });
      await bus.publish('test.numbered', { n: 2, run: tag }, { version: 2 });
      await bus.publish('test.numbered', { n: 3, run: tag }, { version: 1 });
      await until(() => seen.length === 2 && dead.length === 1, 10_000, 'two handled, one dead');
      assert.deepEqual(seen, [[1, 1], [3, 1]]);
      assert.deepEqual(dead, [1], 'dead-lettered on its first delivery: no retries');
      const [letter] = await bus.listDead({ group });
      assert.match(letter!.lastError, /RejectedEventError: test.numbered v2 is unknown here/);
      accept = true;
      assert.equal(await bus.replayDead(letter!.id), 1);
      await until(() => seen.length === 3, 10_000, 'replayed');
      await c.stop();
      assert.deepEqual(seen[2], [2, 2], 'the replay keeps the version');
    });

    it('replays to the dead letter\'s group only', async () => {
      const g1 = newGroup();
      const g2 = newGroup();
      const tag = `${run}-target`;
      let fixed = false;
      const in1: number[] = [];
      const in2: number[] = [];
      const c1 = bus.consume(g1, async (d) => {
        if (d.name !== 'test.numbered' || d.payload.run !== tag) return;
        if (!fixed) throw new Error('g1 broken');
        in1.push(d.payload.n);
      }, { ...fast, maxAttempts: 1 });
      const c2 = bus.consume(g2, async (d) => { if (d.name === 'test.numbered' && d.payload.run === tag) in2.push(d.payload.n); }, fast);
      await bus.publish('test.numbered', { n: 5, run: tag });
      await until(async () => (await bus.listDead({ group: g1 })).length === 1 && in2.length === 1, 10_000, 'g1 dead, g2 done');
      fixed = true;
      assert.equal(await bus.replayDead('all', { group: g1 }), 1);
      await until(() => in1.length === 1, 10_000, 'g1 replay');
      await new Promise((r) => setTimeout(r, 200));
      await Promise.all([c1.stop(), c2.stop()]);
      assert.deepEqual(in1, [5]);
      assert.deepEqual(in2, [5], 'the other group does not see the replay');
    });
  });
}

/** Orders ids of either adapter: decimal row ids or `ms-seq` stream ids. */
export function compareBusIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am - bm || as - bs;
}
