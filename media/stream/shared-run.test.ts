import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../core/logging/logger.js';
import { Stream } from './stream.js';
import { createMediaPacket } from './packet.js';
import type { MediaPacket } from './media-packet.js';
import { FlushScheduler } from './flush-scheduler.js';
import { ViewerSession, type ViewerSink } from './viewer-session.js';
import { ViewerRegistry } from './viewer-registry.js';

const log = silentLogger();
const opts = (name = 'room1') => ({ name, app: 'live', publisherId: 'p1', record: false, clientIp: '127.0.0.1', gopCacheBytes: 1 << 20, log });
const frame = (ts: number, key: boolean, size = 10) => {
  const b = Buffer.alloc(size, 7);
  b[0] = key ? 0x17 : 0x27;
  b[1] = 1;
  return createMediaPacket(9, ts, b);
};
const audio = (ts: number) => createMediaPacket(8, ts, Buffer.from([0xaf, 1, 1, 1]));
const flvTagOf = (p: MediaPacket) => p.flvTag();
/** Waits `ms`, then one more turn of the event loop (the scheduler's tick runs in setImmediate). */
const settle = (ms = 15) => new Promise((r) => setTimeout(() => setImmediate(r), ms));

/** A socket: takes everything at once unless stuck (then the write callbacks are held back). */
class Sink implements ViewerSink {
  writableLength = 0;
  written: Buffer[] = [];
  stuck = false;
  private held: (() => void)[] = [];
  write(b: Buffer, done?: () => void) {
    this.written.push(b);
    if (this.stuck) this.writableLength += b.length;
    if (done) {
      if (this.stuck) this.held.push(done);
      else queueMicrotask(done);
    }
  }
  unstick() {
    this.stuck = false;
    this.writableLength = 0;
    for (const d of this.held.splice(0)) d();
  }
  cork() {}
  uncork() {}
}

function setup(n: number, limits = { queueBytes: 1 << 20, queueTimeMs: 10_000 }) {
  const scheduler = new FlushScheduler(5);
  const stream = new Stream(opts());
  const counters = { skips: 0, evictions: 0 };
  const clock = { tick: 0, tickMs: 100 };
  const viewers = Array.from({ length: n }, (_, i) => {
    const sink = new Sink();
    const ends: string[] = [];
    const v = new ViewerSession(`v${i}`, 'http-flv', sink, flvTagOf, scheduler, limits, counters, clock, (r) => {
      ends.push(r);
      stream.removeReader(v);
    });
    let calls = 0;
    const onPacket = v.onPacket.bind(v);
    v.onPacket = (p) => {
      calls++;
      onPacket(p);
    };
    return { v, sink, ends, calls: () => calls };
  });
  return { scheduler, stream, counters, clock, viewers };
}

describe('shared per-stream run', () => {
  it('viewers in step get no call per packet: at their tick each takes its cursor..end as one buffer, the same for all', async () => {
    const { stream, viewers, scheduler } = setup(3);
    stream.push(frame(0, true));
    for (const { v } of viewers) stream.addReader(v);
    await settle(); // the start-up burst; then each viewer has every packet and follows the run
    assert.equal(stream.run.size, 3, 'every viewer follows the run');
    const frames: [MediaPacket, number][] = [];
    const frameQueued = scheduler.frameQueued.bind(scheduler);
    scheduler.frameQueued = (p, n = 1) => {
      frames.push([p, n]);
      frameQueued(p, n);
    };
    const before = viewers.map(({ calls, sink }) => [calls(), sink.written.length]);
    const sent = [frame(33, false), audio(40), frame(66, false), audio(60)];
    for (const p of sent) stream.push(p);
    viewers.forEach(({ calls }, i) => assert.equal(calls(), before[i]![0], 'no onPacket per packet'));
    assert.deepEqual(frames, [[sent[0], 3], [sent[2], 3]], 'each video frame reported once, with its follower count (FrameAlign)');
    await settle();
    const expected = Buffer.concat(sent.map(flvTagOf));
    viewers.forEach(({ sink }, i) => {
      assert.deepEqual(Buffer.concat(sink.written.slice(before[i]![1]!)), expected, 'the bytes of the packets, in order');
    });
    // The first follower to take the range writes its parts (a range nobody shares is never copied);
    // the others write one joined buffer, the same object.
    const firsts = viewers.filter(({ sink }, i) => sink.written.length - before[i]![1]! === sent.length);
    assert.equal(firsts.length, 1, 'one follower wrote the parts');
    const others = viewers.filter((x) => x !== firsts[0]);
    others.forEach(({ sink }) => assert.equal(sink.written.length - before[viewers.findIndex((x) => x.sink === sink)]![1]!, 1, 'one write per tick'));
    assert.equal(others[0]!.sink.written.at(-1), others[1]!.sink.written.at(-1), 'one buffer shared by the viewers at the same cursor');
    for (const { v } of viewers) v.end('closed');
    assert.equal(stream.run.size, 0);
    assert.equal(stream.run.length, 0, 'no followers: the run holds nothing');
  });

  it('a follower whose batch is still in flight takes the rest when it leaves, from its own cursor', async () => {
    const { stream, viewers } = setup(2);
    stream.push(frame(0, true));
    for (const { v } of viewers) stream.addReader(v);
    await settle();
    const slow = viewers[0]!;
    slow.sink.stuck = true;
    stream.push(frame(33, false));
    await settle();
    assert.equal(slow.sink.written.length, 2, 'the first batch is in flight (held)');
    stream.push(audio(40));
    stream.push(frame(66, false));
    await settle();
    assert.equal(slow.sink.written.length, 2, 'nothing more while it is in flight');
    assert.equal(viewers[1]!.sink.written.length, 4, 'the viewer in step alone took the two packets: their parts');
    slow.sink.unstick();
    assert.equal(slow.sink.written.length, 3, 'sent when the batch left, joined (a second taker of the range)');
    assert.deepEqual(slow.sink.written.at(-1), Buffer.concat([audio(40), frame(66, false)].map(flvTagOf)));
    assert.deepEqual(Buffer.concat(slow.sink.written), Buffer.concat(viewers[1]!.sink.written), 'the same bytes as the viewer in step');
    for (const { v } of viewers) v.end('closed');
  });

  it('over the byte bound at its tick: the follower skips to the next keyframe on the per-packet path, then follows again', async () => {
    const { stream, viewers, counters } = setup(1, { queueBytes: 1000, queueTimeMs: 10_000 });
    const { v, sink } = viewers[0]!;
    stream.push(frame(0, true));
    stream.addReader(v);
    await settle();
    assert.equal(stream.run.size, 1);
    sink.writableLength = 5000; // the socket holds more than the bound
    stream.push(frame(33, false));
    await settle();
    assert.equal(counters.skips, 1, 'skipped at the tick');
    assert.equal(stream.run.size, 0, 'off the run');
    assert.equal(sink.written.length, 1, 'the pending packet was dropped');
    sink.writableLength = 0; // drained
    stream.push(frame(66, false));
    await settle();
    assert.equal(sink.written.length, 1, 'resumes only at a keyframe');
    const k = frame(99, true);
    stream.push(k);
    await settle();
    assert.equal(sink.written.at(-1), k.flvTag());
    assert.equal(stream.run.size, 1, 'in step again: follows the run');
    v.end('closed');
  });

  it('keeps the run bounded: a follower stuck in flight loses its cursor, skips, and is evicted if it stays behind', async () => {
    const { stream, viewers, counters, clock } = setup(2, { queueBytes: 2000, queueTimeMs: 300 });
    stream.push(frame(0, true));
    for (const { v } of viewers) stream.addReader(v);
    await settle();
    const slow = viewers[0]!;
    slow.sink.stuck = true;
    stream.push(frame(33, false));
    await settle(); // in flight, held
    slow.sink.writableLength = 0; // the kernel took it all but never reports it done: the time bound must act
    for (let i = 2; i < 40; i++) {
      stream.push(frame(i * 33, false, 200));
      assert.ok(stream.run.length * 215 <= 2000 + 215, `run bounded: ${stream.run.length} packets`);
      if (i % 3 === 0) await settle(2);
    }
    await settle();
    assert.equal(counters.skips, 1, 'the stuck follower skipped');
    assert.equal(stream.run.size, 1, 'the other one still follows');
    assert.deepEqual(viewers[1]!.ends, []);
    // Still behind (its batch never leaves): ViewerWatch's check evicts it after the queue time.
    clock.tick = 4;
    slow.v.checkStalled();
    assert.deepEqual(slow.ends, ['slow']);
    assert.equal(counters.evictions, 1);
    viewers[1]!.v.end('closed');
  });

  it('keeps nothing reachable past its bound: a dropped packet is let go at once, a joined range at the next append', async () => {
    const { stream, viewers } = setup(2, { queueBytes: 2000, queueTimeMs: 10_000 });
    stream.push(frame(0, true));
    for (const { v } of viewers) stream.addReader(v);
    await settle();
    assert.equal(stream.run.size, 2);
    const run = stream.run;
    const runBytes = () => run.bytesFrom(run.endSeq - run.length);
    // No tick between these pushes (a late tick under load): the run trims to the bound at each append,
    // and must not keep the packets it dropped reachable (300 x 215 bytes here).
    for (let i = 1; i <= 300; i++) {
      stream.push(frame(i * 33, false, 200));
      assert.ok(run.heldBytes() <= 2000 + 215, `run holds ${run.heldBytes()} bytes after ${i} packets`);
    }
    assert.equal(run.heldBytes(), runBytes());
    await settle(); // both lost their cursor: they skip, off the run
    assert.equal(run.size, 0);
    assert.equal(run.heldBytes(), 0, 'no followers: nothing held');
    for (const { v } of viewers) v.end('closed');

    // Two followers at the same cursor: the second joins the range; the joined buffer goes at the next append.
    const b = setup(2);
    b.stream.push(frame(0, true));
    for (const { v } of b.viewers) b.stream.addReader(v);
    await settle();
    assert.equal(b.stream.run.size, 2);
    for (let i = 1; i <= 3; i++) b.stream.push(frame(i * 33, false, 200));
    await settle();
    const r = b.stream.run;
    const held = () => r.bytesFrom(r.endSeq - r.length);
    assert.ok(r.heldBytes() > held(), 'the joined range is remembered within the tick');
    b.stream.push(frame(4 * 33, false, 200));
    assert.equal(r.heldBytes(), held(), 'the next append lets the joined range go');
    for (const { v } of b.viewers) v.end('closed');
  });

  it('writeRaw and the stream end take a follower off the run with its pending packets, in order', async () => {
    const { stream, viewers } = setup(1);
    const { v, sink } = viewers[0]!;
    stream.push(frame(0, true));
    stream.addReader(v);
    await settle();
    const a = frame(33, false);
    stream.push(a);
    v.writeRaw(Buffer.from('RAW'));
    assert.equal(stream.run.size, 0);
    const b = frame(66, false);
    stream.push(b);
    const c = frame(99, false);
    stream.push(c);
    stream.close('kicked'); // not parked: the viewer ends, sending what it holds
    assert.deepEqual(v.isEnded, true);
    await settle();
    assert.deepEqual(Buffer.concat(sink.written.slice(1)), Buffer.concat([a.flvTag(), Buffer.from('RAW'), b.flvTag(), c.flvTag()]));
  });

  it('a republish: a follower parked with pending packets sends them, rejoins the new stream at a keyframe and follows its run', async () => {
    const scheduler = new FlushScheduler(5);
    const registry = new ViewerRegistry(scheduler, { queueBytes: 1 << 20, queueTimeMs: 10_000 }, log, 10_000);
    const s1 = new Stream(opts());
    s1.parkViewers = (vs, lastTs) => registry.park(s1, vs as ViewerSession[], lastTs);
    s1.push(frame(0, true));
    const sink = new Sink();
    const ends: string[] = [];
    const v = registry.start({ stream: s1, protocol: 'http-flv', clientIp: '127.0.0.1', sink, encode: flvTagOf, closeTransport: (r) => ends.push(r) });
    await settle();
    assert.equal(s1.run.size, 1);
    const last = frame(33, false);
    s1.push(last);
    s1.close('closed'); // the publisher dropped: the viewer waits
    assert.equal(s1.run.size, 0);
    await settle();
    assert.equal(sink.written.at(-1), last.flvTag(), 'the pending packet was sent, not lost');
    const s2 = new Stream(opts());
    registry.adopt(s2);
    const delta = frame(0, false);
    s2.push(delta);
    const key = frame(33, true);
    s2.push(key);
    await settle();
    assert.equal(sink.written.at(-1), key.flvTag(), 'starts the new publish at its keyframe');
    assert.equal(s2.run.size, 1, 'follows the new stream');
    const next = [audio(40), frame(66, false)];
    const before = sink.written.length;
    for (const p of next) s2.push(p);
    await settle();
    assert.deepEqual(Buffer.concat(sink.written.slice(before)), Buffer.concat(next.map(flvTagOf)));
    assert.ok(!sink.written.some((b) => b === delta.flvTag()), 'never a delta frame before the keyframe');
    assert.deepEqual(ends, []);
    v.end('closed');
    assert.equal(s2.run.size, 0);
    registry.closeAll();
    scheduler.close();
  });
});
