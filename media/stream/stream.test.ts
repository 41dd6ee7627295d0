import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { silentLogger } from '../../core/logging/logger.js';
import { captureLogger } from '../../core/testing/log-capture.js';
import { encodeAmf0, AmfEcmaArray } from '../protocols/rtmp/amf0.js';
import { Stream } from './stream.js';
import { StreamRegistry } from './registry.js';
import { createMediaPacket } from './packet.js';
import type { MediaPacket } from './media-packet.js';
import type { StreamReader } from './stream-reader.js';
import { FlushScheduler } from './flush-scheduler.js';
import { ViewerSession, type ViewerSink } from './viewer-session.js';

const log = silentLogger();
const opts = (name = 'room1', gopCacheBytes = 1 << 20) =>
  ({ name, app: 'live', publisherId: 'p1', record: false, clientIp: '127.0.0.1', gopCacheBytes, log });
const meta = () => createMediaPacket(18, 0, encodeAmf0('onMetaData', new AmfEcmaArray({ width: 640, framerate: 25, videocodecid: 7, audiocodecid: 10 })));
/** A real AVC sequence header (x264, 320x240). */
const vsh = () => createMediaPacket(9, 0, Buffer.from('17000000000142c00dffe100166742c00dda0507ec0440000003004000000c83c50aa801000468ce0fc8', 'hex'));
const ash = () => createMediaPacket(8, 0, Buffer.from([0xaf, 0, 0x12, 0x10]));
const frame = (ts: number, key: boolean, size = 10) => {
  const b = Buffer.alloc(size, 7);
  b[0] = key ? 0x17 : 0x27;
  b[1] = 1;
  return createMediaPacket(9, ts, b);
};
const audio = (ts: number) => createMediaPacket(8, ts, Buffer.from([0xaf, 1, 1, 1]));

class Recorder implements StreamReader {
  packets: MediaPacket[] = [];
  ended = 0;
  constructor(readonly id = 'r1', readonly kind: StreamReader['kind'] = 'http-flv') {}
  onPacket(p: MediaPacket) {
    this.packets.push(p);
  }
  onStreamEnd() {
    this.ended++;
  }
}

describe(Stream.name, () => {
  it('keeps its outgoing timeline monotonic across a publisher reset, headers included, and logs it once', () => {
    const cap = captureLogger();
    const s = new Stream({ ...opts('7001'), log: cap.log });
    const r = new Recorder();
    s.addReader(r);
    for (const p of [meta(), vsh(), ash(), frame(50_000, true), audio(50_010), frame(50_033, false), audio(50_033)]) s.push(p);
    // The encoder restarts its output on the same connection: metadata, headers, then time from 0.
    for (const p of [meta(), vsh(), ash(), frame(0, true), audio(5), frame(33, false), audio(28)]) s.push(p);
    assert.deepEqual(r.packets.map((p) => p.timestamp), [0, 0, 0, 0, 10, 33, 33, 33, 33, 33, 43, 48, 76, 71]);
    const lines = cap.lines.filter((l) => String(l.msg).includes('timestamps jumped'));
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!.stream, '7001');
    assert.equal(lines[0]!.kind, 'backward');
    assert.equal(s.newestTimestamp, 76);
  });

  it('replays metadata, sequence headers and the GOP from the latest keyframe, then live packets', () => {
    const s = new Stream(opts());
    for (const p of [meta(), vsh(), ash(), frame(0, true), audio(10), frame(33, false), frame(66, true), audio(70), frame(99, false)]) s.push(p);
    const r = new Recorder();
    s.addReader(r);
    s.push(frame(132, false));
    assert.deepEqual(r.packets.map((p) => [p.type, p.timestamp]), [[18, 0], [9, 0], [8, 0], [9, 66], [8, 70], [9, 99], [9, 132]]);
    assert.equal(r.packets[0]!.flvTag(), r.packets[0]!.flvTag(), 'one shared FLV tag per packet');
    assert.equal(s.viewers['http-flv'], 1);
  });

  it('measures the keyframe interval (the studio warns about OBS-style 8 s GOPs)', () => {
    const s = new Stream(opts());
    assert.equal(s.keyframeIntervalMs, 0, 'unknown before two keyframes');
    s.push(frame(0, true));
    for (let ts = 33; ts < 8000; ts += 33) s.push(frame(ts, false));
    assert.equal(s.keyframeIntervalMs, 0);
    s.push(frame(8000, true));
    assert.equal(s.keyframeIntervalMs, 8000);
    s.push(frame(10000, true));
    assert.equal(s.keyframeIntervalMs, 2000, 'the latest interval, not an average');
  });

  it('drops a GOP over the cap until the next keyframe', () => {
    const s = new Stream(opts('x', 100));
    s.push(frame(0, true, 60));
    s.push(frame(33, false, 60));
    const r = new Recorder();
    s.addReader(r);
    assert.equal(r.packets.length, 0, 'oversized GOP not replayed');
    s.push(frame(66, true, 60));
    const r2 = new Recorder('r2');
    s.addReader(r2);
    assert.deepEqual(r2.packets.map((p) => p.timestamp), [66]);
  });

  it('reads codec info, becomes ready once, and closes once telling every reader', () => {
    const s = new Stream(opts());
    let ready = 0;
    const closes: string[] = [];
    s.on('ready', () => ready++);
    s.on('close', (r) => closes.push(r));
    s.push(meta());
    s.push(vsh());
    assert.equal(ready, 0, 'metadata announces audio too');
    s.push(ash());
    assert.equal(ready, 1);
    s.push(frame(0, true));
    assert.equal(ready, 1);
    assert.deepEqual(s.video, { codec: 'H264', width: 320, height: 240, fps: 25 });
    assert.deepEqual(s.audio, { codec: 'AAC', sampleRate: 44100, channels: 2 });
    const r = new Recorder();
    s.addReader(r);
    s.close('closed');
    s.close('kicked');
    assert.deepEqual(closes, ['closed']);
    assert.equal(r.ended, 1);
    assert.equal(s.readerCount, 0);
    s.push(frame(10, true));
    const late = new Recorder('late');
    s.addReader(late);
    assert.equal(late.ended, 1, 'a reader added after close is ended at once');
  });

  it('becomes ready at the first frame without metadata', () => {
    const s = new Stream(opts());
    let ready = 0;
    s.on('ready', () => ready++);
    s.push(ash());
    s.push(audio(1));
    assert.equal(ready, 1);
  });
});

describe(StreamRegistry.name, () => {
  it('emits publish/unpublish and replaces a live stream of the same name', () => {
    const reg = new StreamRegistry(log);
    const seen: string[] = [];
    reg.on('publish', (s) => seen.push(`+${s.publisherId}`));
    reg.on('unpublish', (s) => seen.push(`-${s.publisherId}`));
    const a = reg.create(opts());
    let kicked = '';
    a.on('kick', (r) => (kicked = r));
    const b = reg.create({ ...opts(), publisherId: 'p2' });
    assert.equal(kicked, 'replaced');
    assert.equal(reg.get('room1'), b);
    b.close('closed');
    assert.equal(reg.size, 0);
    assert.deepEqual(seen, ['+p1', '-p1', '+p2', '-p2']);
  });
});

class FakeSink implements ViewerSink {
  writableLength = 0;
  written: Buffer[] = [];
  corks = 0;
  uncorks = 0;
  /** While stuck, completions are held back, as a socket whose peer does not read. */
  stuck = false;
  private held: (() => void)[] = [];
  write(b: Buffer, done?: () => void) {
    this.written.push(b);
    this.writableLength += b.length;
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
  cork() {
    this.corks++;
  }
  uncork() {
    this.uncorks++;
  }
}

/**
 * Waits `ms`, then one more turn of the event loop: on a busy machine the scheduler's flush timer
 * and the test's timer expire in the same timers phase, and the flush itself runs in setImmediate.
 */
const settle = (ms: number) => new Promise((r) => setTimeout(() => setImmediate(r), ms));

describe(ViewerSession.name, () => {
  const make = (sink: FakeSink, limits = { queueBytes: 1000, queueTimeMs: 200 }) => {
    const ends: string[] = [];
    const counters = { skips: 0, evictions: 0 };
    const scheduler = new FlushScheduler(5);
    const v = new ViewerSession('v1', 'http-flv', sink, (p) => p.flvTag(), scheduler, limits, counters, { tick: 0, tickMs: 100 }, (r) => ends.push(r));
    return { v, ends, counters, scheduler };
  };

  it('coalesces writes: one cork/uncork per flush interval, shared buffers', async () => {
    const sink = new FakeSink();
    const { v } = make(sink);
    const k = frame(0, true);
    v.onPacket(k);
    v.onPacket(audio(1));
    v.onPacket(frame(33, false));
    assert.equal(sink.written.length, 0, 'queued until the flush tick');
    await settle(20);
    assert.equal(sink.corks, 1);
    assert.equal(sink.uncorks, 1);
    assert.equal(sink.written.length, 3);
    assert.equal(sink.written[0], k.flvTag(), 'the packet buffer itself, not a copy');
    v.end('closed');
  });

  it('skips to the next keyframe when the queue is over its byte bound, then evicts if still behind', async () => {
    const sink = new FakeSink();
    const { v, ends, counters } = make(sink);
    const tick = () => settle(10);
    v.onPacket(frame(0, true, 900));
    v.onPacket(frame(33, false, 900)); // queue 915 < 1000: queued
    v.onPacket(frame(66, false, 100)); // queue 1830 > 1000: skip starts
    assert.equal(counters.skips, 1);
    await tick();
    assert.equal(sink.written.length, 2, 'the queue went out in one flush');
    assert.equal(sink.uncorks, 1);
    v.onPacket(audio(70));
    v.onPacket(frame(99, true, 10)); // keyframe, but the sink has not drained
    await tick();
    assert.equal(sink.written.length, 2, 'nothing sent while behind');
    sink.writableLength = 0; // drained
    v.onPacket(frame(132, false));
    await tick();
    assert.equal(sink.written.length, 2, 'resumes only at a keyframe');
    v.onPacket(frame(165, true));
    await tick();
    assert.equal(sink.written.length, 3);
    sink.writableLength = 5000; // stuck again
    v.onPacket(frame(198, false));
    await new Promise((r) => setTimeout(r, 250));
    v.onPacket(frame(231, false));
    assert.deepEqual(ends, ['slow']);
    assert.equal(counters.evictions, 1);
    assert.equal(v.isEnded, true);
  });

  it('ends once, without writing again, when the sink fails a write synchronously (a closing WebSocket)', async () => {
    const sink = new FakeSink();
    let writes = 0;
    sink.write = (_b: Buffer, done?: (err?: Error | null) => void) => {
      writes++;
      done?.(new Error('websocket closed'));
    };
    const { v, ends } = make(sink, { queueBytes: 1 << 20, queueTimeMs: 10_000 });
    for (let i = 0; i < 50; i++) v.onPacket(frame(i * 33, i % 10 === 0));
    await settle(20);
    assert.deepEqual(ends, ['closed']);
    assert.ok(writes <= 50, `${writes} writes`);
    v.onPacket(frame(2000, true));
    await settle(20);
    assert.deepEqual(ends, ['closed']);
  });

  it('is evicted when a batch waits the queue time for the kernel, packets or not (checkStalled)', async () => {
    const sink = new FakeSink();
    sink.stuck = true;
    const clock = { tick: 0, tickMs: 100 };
    const ends: string[] = [];
    const counters = { skips: 0, evictions: 0 };
    const v = new ViewerSession('v1', 'http-flv', sink, (p) => p.flvTag(), new FlushScheduler(5), { queueBytes: 1 << 20, queueTimeMs: 300 }, counters, clock, (r) => ends.push(r));
    v.onPacket(frame(0, true));
    await settle(10);
    for (clock.tick = 1; clock.tick <= 3; clock.tick++) v.checkStalled();
    assert.deepEqual(ends, [], 'not yet: 300 ms');
    clock.tick = 4;
    v.checkStalled();
    assert.deepEqual(ends, ['slow']);
    assert.equal(counters.evictions, 1);
  });

  it('holds its queue while a batch is in flight and sends it as soon as that batch has left', async () => {
    const sink = new FakeSink();
    sink.stuck = true;
    const { v } = make(sink, { queueBytes: 1 << 20, queueTimeMs: 10_000 });
    v.onPacket(frame(0, true));
    await settle(10);
    assert.equal(sink.written.length, 1);
    v.onPacket(frame(33, false));
    v.onPacket(frame(66, false));
    await settle(20);
    assert.equal(sink.written.length, 1, 'held: the first batch has not left');
    sink.unstick();
    assert.equal(sink.written.length, 3, 'sent at once when the batch left, in one more batch');
    assert.equal(sink.uncorks, 1, 'the two held packets went out corked together');
    v.end('closed');
  });

  it('skips when the queue holds more media time than the bound', () => {
    const sink = new FakeSink();
    const { v, counters } = make(sink, { queueBytes: 1 << 20, queueTimeMs: 200 });
    v.onPacket(frame(0, true)); // sink was empty at ts 0
    v.onPacket(frame(100, false));
    assert.equal(counters.skips, 0);
    v.onPacket(frame(300, false)); // 300 ms queued > 200
    assert.equal(counters.skips, 1);
    assert.equal(sink.written.length, 0, 'nothing flushed yet: all of it was queued');
    v.end('closed');
  });

  it('does not skip a viewer whose socket is never empty but keeps up', async () => {
    const sink = new FakeSink();
    const { v, counters } = make(sink, { queueBytes: 1 << 20, queueTimeMs: 1000 });
    for (let i = 0; i < 300; i++) {
      sink.writableLength = 100; // the kernel always has a little of ours: a busy, healthy pipe
      v.onPacket(frame(i * 33, i % 30 === 0));
      if (i % 10 === 9) await new Promise((r) => setTimeout(r, 8));
    }
    assert.equal(counters.skips, 0);
    assert.ok(sink.written.length > 250);
    v.end('closed');
  });

  it('never starts a viewer on a delta frame, but passes sequence headers', () => {
    const sink = new FakeSink();
    const { v } = make(sink);
    v.onPacket(vsh());
    v.onPacket(frame(0, false));
    v.onPacket(frame(33, true));
    v.end('stream-ended'); // sends what is queued
    assert.equal(sink.written.length, 2);
  });
});

describe('shared flush batches', () => {
  /** A socket that takes everything at once. */
  class DrainingSink extends FakeSink {
    override write(b: Buffer, done?: () => void) {
      super.write(b, done);
      this.writableLength = 0;
    }
  }
  const limits = { queueBytes: 1 << 20, queueTimeMs: 10_000 };
  const flvTagOf = (p: MediaPacket) => p.flvTag();
  const tick = () => settle(15);

  function setup(n: number, sinkOf: () => FakeSink = () => new DrainingSink()) {
    const scheduler = new FlushScheduler(5);
    const stream = new Stream(opts());
    const viewers = Array.from({ length: n }, (_, i) => {
      const sink = sinkOf();
      const v = new ViewerSession(`v${i}`, 'http-flv', sink, flvTagOf, scheduler, limits, { skips: 0, evictions: 0 }, { tick: 0, tickMs: 100 }, () => {});
      return { v, sink };
    });
    return { scheduler, stream, viewers };
  }

  it('viewers in step write one joined buffer per interval, the same object for all, with the same bytes as the parts', async () => {
    const { stream, viewers } = setup(3);
    stream.push(frame(0, true));
    for (const { v } of viewers) stream.addReader(v);
    await tick(); // the start-up burst (the cached keyframe)
    for (const { sink } of viewers) sink.written.length = 0;
    const sent = [frame(33, true), audio(40), frame(66, false), audio(60)];
    for (const p of sent) stream.push(p);
    await tick();
    const expected = Buffer.concat(sent.map(flvTagOf));
    // The first viewer written (a tick starts at any of them: tickStart) writes its parts: a run nobody shares is never copied.
    const firsts = viewers.filter(({ sink }) => sink.written.length === sent.length);
    assert.equal(firsts.length, 1, 'one viewer wrote the parts');
    const first = firsts[0]!;
    const others = viewers.filter((x) => x !== first);
    assert.deepEqual(Buffer.concat(first.sink.written), expected);
    for (const { sink } of others) {
      assert.equal(sink.written.length, 1, 'one write per interval');
      assert.deepEqual(sink.written[0], expected, 'the same bytes as the parts');
      assert.equal(sink.uncorks, 0, 'no corked writev');
    }
    assert.equal(others[0]!.sink.written[0], others[1]!.sink.written[0], 'one buffer shared by every viewer in step');
    for (const { v } of viewers) v.end('closed');
  });

  it('a viewer whose run differs (it skipped, or has its start-up burst) writes its own parts', async () => {
    const { stream, viewers } = setup(2);
    stream.push(frame(0, true));
    stream.addReader(viewers[0]!.v);
    await tick();
    stream.push(frame(33, false));
    stream.addReader(viewers[1]!.v); // start-up burst: cache replay, then the live packet
    stream.push(audio(40));
    stream.push(frame(66, false));
    await tick();
    const tags = (s: FakeSink) => Buffer.concat(s.written);
    assert.ok(viewers[1]!.sink.written.length > 1, 'the burst went out in parts');
    assert.deepEqual(tags(viewers[1]!.sink).subarray(-flvTagOf(frame(66, false)).length), flvTagOf(frame(66, false)));
    for (const { v } of viewers) v.end('closed');
  });

  it('never joins writes for a sink that frames each write (WebSocket)', async () => {
    class FramingSink extends DrainingSink {
      readonly framesWrites = true;
    }
    const { stream, viewers } = setup(3, () => new FramingSink());
    stream.push(frame(0, true));
    for (const { v } of viewers) stream.addReader(v);
    await tick();
    const before = viewers.map(({ sink }) => sink.written.length);
    for (const p of [frame(33, false), audio(40), frame(66, false)]) stream.push(p);
    await tick();
    viewers.forEach(({ sink }, i) => assert.equal(sink.written.length - before[i]!, 3, 'one write per tag'));
    for (const { v } of viewers) v.end('closed');
  });
});

describe(FlushScheduler.name, () => {
  const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('writes a big tick in slices, letting other callbacks run in between, and flushes each viewer once', async () => {
    const scheduler = new FlushScheduler(5);
    const order: string[] = [];
    const flushed = new Map<number, number>();
    for (let i = 0; i < 1000; i++) {
      scheduler.schedule({
        flush: () => {
          flushed.set(i, (flushed.get(i) ?? 0) + 1);
          if (i === 0) setImmediate(() => order.push(`other work after ${flushed.size} flushes`));
        },
      });
    }
    // Each slice waits for a turn of the event loop, which a loaded machine stretches: wait for the
    // tick to finish (bounded) rather than a fixed time.
    for (let waited = 0; flushed.size < 1000 && waited < 3000; waited += 10) await tick(10);
    assert.equal(flushed.size, 1000);
    assert.ok([...flushed.values()].every((n) => n === 1));
    assert.equal(order.length, 1);
    assert.ok(!order[0]!.endsWith('after 1000 flushes'), `a callback ran between slices (${order[0]})`);
  });

  it('writes a lone viewer at once, not at the interval (the interval is only the ceiling)', async () => {
    const scheduler = new FlushScheduler(10_000);
    let flushedAt: number | undefined;
    const t0 = performance.now();
    scheduler.schedule({ flush: () => void (flushedAt = performance.now()) });
    for (let waited = 0; flushedAt === undefined && waited < 3000; waited += 5) await tick(5);
    assert.ok(flushedAt !== undefined && flushedAt - t0 < 3000, 'flushed long before the 10 s interval');
    scheduler.close();
  });

  it('close() writes everything still due at once', () => {
    const scheduler = new FlushScheduler(1000);
    let n = 0;
    for (let i = 0; i < 700; i++) scheduler.schedule({ flush: () => void n++ });
    scheduler.close();
    assert.equal(n, 700);
  });
});

describe('FlushScheduler without an interval', () => {
  it('flushes every scheduled viewer at once and keeps nothing for a tick that never comes', async () => {
    const scheduler = new FlushScheduler(0);
    let n = 0;
    for (let i = 0; i < 10; i++) scheduler.schedule({ flush: () => void n++ });
    await new Promise((r) => setImmediate(r));
    assert.equal(n, 10);
    assert.equal((scheduler as unknown as { dirty: Set<unknown> }).dirty.size, 0);
  });
});
