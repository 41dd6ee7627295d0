import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../core/config/load.js';
import { TypedEmitter } from '../../core/events/typed-emitter.js';
import { silentLogger } from '../../core/logging/logger.js';
import { waitFor } from '../../core/testing/wait-for.js';
import type { LiveStreamView, MediaPluginContext, StreamRegistryEvents, StreamRegistryView } from '../plugin.js';
import { FlvParser } from '../protocols/flv/flv-parser.js';
import type { MediaPacket, TagType } from '../stream/media-packet.js';
import { createMediaPacket } from '../stream/packet.js';
import type { StreamReader } from '../stream/stream-reader.js';
import { FakeLoop } from '../testing/fake-loop.js';
import { FrameGrabber, type FrameGrabberOptions, type GrabChild } from './frame-grabber.js';

/** A live stream as the hub shows it to plugins: readers get the start-up cache (headers, GOP) on add, then every packet. */
class FakeView implements LiveStreamView {
  readonly app = 'live';
  readonly record = false;
  readonly startedAt = Date.now();
  readonly readers = new Map<string, StreamReader>();
  private headers: MediaPacket[] = [];
  private gop: MediaPacket[] = [];
  constructor(readonly name: string, readonly publisherId = `pub-${name}`) {}
  addReader(reader: StreamReader): void {
    for (const p of [...this.headers, ...this.gop]) reader.onPacket(p);
    this.readers.set(reader.id, reader);
  }
  removeReader(reader: StreamReader): void {
    if (this.readers.get(reader.id) === reader) this.readers.delete(reader.id);
  }
  push(p: MediaPacket): void {
    if (p.isSequenceHeader || p.type === 18) this.headers.push(p);
    else if (p.isKeyframe) this.gop = [p];
    else if (this.gop.length) this.gop.push(p);
    for (const r of [...this.readers.values()]) r.onPacket(p);
  }
  end(): void {
    for (const r of [...this.readers.values()]) r.onStreamEnd();
    this.readers.clear();
  }
}

class Hub extends TypedEmitter<StreamRegistryEvents> implements StreamRegistryView {
  readonly views = new Map<string, FakeView>();
  get(name: string): LiveStreamView | undefined {
    return this.views.get(name);
  }
  publish(view: FakeView): FakeView {
    this.views.set(view.name, view);
    this.emit('publish', view);
    return view;
  }
  unpublish(view: FakeView): void {
    view.end();
    this.views.delete(view.name);
    this.emit('unpublish', view);
  }
}

function started(options: FrameGrabberOptions): { grabber: FrameGrabber; hub: Hub; dataDir: string } {
  const dataDir = mkdtempSync(join(tmpdir(), 'onair-frames-'));
  const config = loadConfig({}, { dataDir, secret: 'frames-test-secret-0123456789abcdef' });
  const hub = new Hub();
  const grabber = new FrameGrabber(options);
  grabber.start({ config, log: silentLogger(), streams: hub } as unknown as MediaPluginContext);
  return { grabber, hub, dataDir };
}

/** A stand-in ffmpeg: takes stdin, records its kill. */
function fakeChild(): GrabChild & { killed?: string } {
  const child = new EventEmitter() as EventEmitter & GrabChild & { killed?: string };
  Object.assign(child, {
    stdin: new Writable({ write: (_c, _e, cb) => cb() }),
    stderr: new PassThrough(),
    kill: (signal: string) => ((child.killed = signal), true),
  });
  return child;
}

// Synthetic H.264/AAC tags: metadata, sequence headers, then a keyframe (0x17 0x01) or an inter frame (0x27 0x01).
const meta = () => createMediaPacket(18 as TagType, 0, Buffer.from([0x02, 0x00, 0x0a, ...Buffer.from('onMetaData'), 0x08, 0, 0, 0, 0, 0, 0, 9]));
const avcHeader = () => createMediaPacket(9 as TagType, 0, Buffer.from([0x17, 0, 0, 0, 0, 1, 0x42, 0, 0x1e]));
const aacHeader = () => createMediaPacket(8 as TagType, 0, Buffer.from([0xaf, 0, 0x12, 0x10]));
const keyframe = (ts: number) => createMediaPacket(9 as TagType, ts, Buffer.from([0x17, 1, 0, 0, 0, 0, 0, 0, 1, 0x65]));
const interFrame = (ts: number) => createMediaPacket(9 as TagType, ts, Buffer.from([0x27, 1, 0, 0, 0, 0, 0, 0, 1, 0x41]));
const audio = (ts: number) => createMediaPacket(8 as TagType, ts, Buffer.from([0xaf, 1, 5, 5]));

describe('FrameGrabber: when its ffmpeg is spawned', () => {
  function harness(spawnCostMs = 0) {
    const loop = new FakeLoop();
    const spawns: Array<{ at: number; file: string; child: ReturnType<typeof fakeChild> }> = [];
    const h = started({
      clock: loop,
      spawn: (_cmd, args) => {
        const child = fakeChild();
        spawns.push({ at: loop.now(), file: args.at(-1)!, child });
        loop.work(spawnCostMs); // the fork blocks the loop
        return child;
      },
    });
    return { ...h, loop, spawns, close: () => (void h.grabber.close(), rmSync(h.dataDir, { recursive: true, force: true })) };
  }

  it('spawns nothing for a publish until its first video keyframe, then one child fed from that keyframe', () => {
    const h = harness();
    const view = h.hub.publish(new FakeView('100'));
    for (const p of [meta(), avcHeader(), aacHeader(), audio(0), interFrame(33), audio(40)]) view.push(p);
    h.loop.run(10_000);
    assert.equal(h.spawns.length, 0, 'no keyframe yet: no ffmpeg');
    view.push(keyframe(66));
    assert.equal(h.spawns.length, 0, 'not spawned on the publisher\'s packet path');
    h.loop.run(10_000);
    assert.equal(h.spawns.length, 1);
    assert.match(h.spawns[0]!.file, /100\.jpg$/);
    assert.deepEqual([...view.readers.keys()], ['frames-pub-100'], 'the watcher gave way to the ffmpeg feed');
    view.push(keyframe(1066));
    h.loop.run(20_000);
    assert.equal(h.spawns.length, 1, 'one child per stream');
    h.hub.unpublish(view);
    assert.equal(h.spawns[0]!.child.killed, 'SIGKILL');
    h.close();
  });

  it('spawns nothing for a publish that never sends video (no media, or audio only)', () => {
    const h = harness();
    const silent = h.hub.publish(new FakeView('200'));
    const radio = h.hub.publish(new FakeView('201'));
    for (let ts = 0; ts < 5000; ts += 23) radio.push(audio(ts));
    h.loop.run(60_000);
    h.hub.unpublish(silent);
    h.hub.unpublish(radio);
    h.loop.run(120_000);
    assert.equal(h.spawns.length, 0);
    assert.equal(h.grabber.spawned, 0);
    h.close();
  });

  it('paces a burst: one spawn per timer turn, 100 ms apart, or as far apart as a spawn blocked the loop', () => {
    const quick = harness(5);
    const views = Array.from({ length: 30 }, (_, i) => quick.hub.publish(new FakeView(`3${i}`)));
    for (const v of views) v.push(keyframe(0)); // 30 anchors' first keyframes in the same turn
    assert.equal(quick.spawns.length, 0);
    quick.loop.run(60_000);
    assert.equal(quick.spawns.length, 30);
    const gaps = quick.spawns.slice(1).map((s, i) => s.at - quick.spawns[i]!.at);
    assert.ok(gaps.every((g) => g >= 100 && g <= 110), `gaps ${gaps}`);
    assert.ok(quick.spawns.at(-1)!.at <= 3500, 'the 30th stream has its child within ~3 s');
    quick.close();

    const slow = harness(400); // a loaded machine: each fork blocks the loop 400 ms
    const more = Array.from({ length: 5 }, (_, i) => slow.hub.publish(new FakeView(`4${i}`)));
    for (const v of more) v.push(keyframe(0));
    slow.loop.run(60_000);
    const slowGaps = slow.spawns.slice(1).map((s, i) => s.at - slow.spawns[i]!.at);
    assert.ok(slowGaps.every((g) => g >= 800), `the loop gets as much free time as the spawn took: ${slowGaps}`);
    slow.close();
  });

  it('an unpublish (or a new publish of the name) before its turn cancels the spawn', () => {
    const h = harness();
    const a = h.hub.publish(new FakeView('500'));
    const b = h.hub.publish(new FakeView('501'));
    const c = h.hub.publish(new FakeView('502', 'first'));
    for (const v of [a, b, c]) v.push(keyframe(0));
    assert.equal(h.grabber.queued, 3);
    h.hub.unpublish(a);
    const c2 = h.hub.publish(new FakeView('502', 'second')); // the anchor came back: the old publish's place is gone
    assert.equal(h.grabber.queued, 1);
    h.loop.run(10_000);
    assert.deepEqual(h.spawns.map((s) => s.file.split('/').at(-1)), ['501.jpg']);
    assert.equal(c2.readers.size, 1, 'the new publish waits for its own keyframe');
    c2.push(keyframe(0));
    h.loop.run(20_000);
    assert.deepEqual(h.spawns.map((s) => s.file.split('/').at(-1)), ['501.jpg', '502.jpg']);
    h.close();
  });
});

describe('FrameGrabber with ffmpeg: frame.jpg', () => {
  let packets: MediaPacket[] = [];
  let dir = '';
  let server: Server;
  let base = '';
  let grabber: FrameGrabber;
  let hub: Hub;
  let dataDir = '';
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'onair-frames-flv-'));
    const flv = join(dir, 'in.flv');
    const res = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25',
      '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-bf', '0',
      '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-t', '8', '-f', 'flv', flv], { timeout: 60_000 });
    assert.equal(res.status, 0, res.stderr?.toString());
    packets = new FlvParser().push(readFileSync(flv)).map((t) => createMediaPacket(t.type as TagType, t.timestamp, Buffer.from(t.body)));
    ({ grabber, hub, dataDir } = started({}));
    server = createServer((req, res) => {
      if (!grabber.handleHttp(req, res, new URL(req.url!, 'http://x'))) res.writeHead(418).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await grabber.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('is 404 while a publish has sent no keyframe (no ffmpeg), then the live picture soon after its first keyframe', async () => {
    const view = hub.publish(new FakeView('700'));
    const firstKey = packets.findIndex((p) => p.isKeyframe && !p.isSequenceHeader);
    for (const p of packets.slice(0, firstKey)) view.push(p);
    await new Promise((r) => setTimeout(r, 300));
    const early = await fetch(`${base}/live/700/frame.jpg`);
    assert.equal(early.status, 404);
    assert.equal(grabber.spawned, 0);
    // The rest as a publisher sends it, at twice real time.
    const t0 = Date.now();
    let k = firstKey;
    const feed = setInterval(() => {
      while (k < packets.length && packets[k]!.timestamp <= 2 * (Date.now() - t0)) view.push(packets[k++]!);
    }, 20);
    try {
      const frame = await waitFor('a frame of the live stream', async () => {
        const res = await fetch(`${base}/live/700/frame.jpg`);
        return res.status === 200 ? res : undefined;
      });
      assert.equal(frame.headers.get('content-type'), 'image/jpeg');
      const jpeg = Buffer.from(await frame.arrayBuffer());
      assert.deepEqual([...jpeg.subarray(0, 2)], [0xff, 0xd8]);
      assert.equal(grabber.spawned, 1);
      hub.unpublish(view);
      assert.equal((await fetch(`${base}/live/700/frame.jpg`)).status, 404, 'gone when the show ends');
    } finally {
      clearInterval(feed);
    }
  });
});
