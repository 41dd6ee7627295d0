import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { silentLogger } from '../../core/logging/logger.js';
import { createMediaPacket } from '../stream/packet.js';
import { FlvParser } from '../protocols/flv/flv-parser.js';
import { FlvSink } from './flv-sink.js';

const AVC_HEADER = Buffer.from([0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f]);
const AAC_HEADER = Buffer.from([0xaf, 0, 0x12, 0x10]);
const key = (ts: number) => createMediaPacket(9, ts, Buffer.concat([Buffer.from([0x17, 1, 0, 0, 0]), Buffer.alloc(2000, 1)]));
const inter = (ts: number) => createMediaPacket(9, ts, Buffer.concat([Buffer.from([0x27, 1, 0, 0, 0]), Buffer.alloc(500, 2)]));
const audio = (ts: number) => createMediaPacket(8, ts, Buffer.from([0xaf, 1, 9, 9, 9]));
const metadata = createMediaPacket(18, 0, Buffer.from([0x02, 0x00, 0x0a, ...Buffer.from('onMetaData'), 0x05]));
const cuePoint = createMediaPacket(18, 0, Buffer.from([0x02, 0x00, 0x0a, ...Buffer.from('onCuePoint'), 0x05]));

/** A destination that keeps everything, or (paused) accepts nothing until resumed. */
class Collector extends Writable {
  chunks: Buffer[] = [];
  private held: (() => void)[] = [];
  constructor(public paused = false) {
    super({ highWaterMark: 1024 });
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.chunks.push(chunk);
    if (this.paused) this.held.push(cb);
    else cb();
  }
  resume(): void {
    this.paused = false;
    for (const cb of this.held.splice(0)) cb();
  }
  tags() {
    return new FlvParser().push(Buffer.concat(this.chunks));
  }
}

const tick = () => new Promise((r) => setImmediate(r));

describe(FlvSink.name, () => {
  it('writes header, metadata and media from the first keyframe, rebased to 0, without other script data', async () => {
    const out = new Collector();
    const sink = new FlvSink({ id: 't', out, log: silentLogger(), maxBufferedBytes: 1 << 20 });
    for (const p of [metadata, cuePoint, createMediaPacket(9, 5000, AVC_HEADER), createMediaPacket(8, 5000, AAC_HEADER),
      inter(4960), audio(4990), key(5000), audio(5010), inter(5033), key(6000)]) sink.onPacket(p);
    sink.onStreamEnd();
    await tick();
    const tags = out.tags();
    assert.deepEqual(tags.map((t) => [t.type, t.timestamp]), [[18, 0], [9, 0], [8, 0], [9, 0], [8, 10], [9, 33], [9, 1000]]);
    assert.equal(sink.durationMs, 1000);
    assert.equal(sink.droppedPackets, 2, 'the inter frame and audio before the first keyframe');
    assert.equal(sink.isClosed, true);
    assert.equal(out.writableEnded, true);
  });

  it('skips to the next keyframe when the destination falls behind, keeping memory bounded', async () => {
    const out = new Collector(true);
    const cap = 64 * 1024;
    const sink = new FlvSink({ id: 't', out, log: silentLogger(), maxBufferedBytes: cap });
    sink.onPacket(createMediaPacket(9, 0, AVC_HEADER));
    let ts = 0;
    for (let gop = 0; gop < 50; gop++) {
      sink.onPacket(key(ts += 33));
      for (let i = 0; i < 29; i++) sink.onPacket(inter(ts += 33));
      await tick();
      assert.ok(out.writableLength <= cap + 4000, `buffered ${out.writableLength}`);
    }
    assert.ok(sink.droppedPackets > 1000, `dropped ${sink.droppedPackets}`);
    out.resume();
    await tick();
    sink.onPacket(inter(ts += 33)); // the queue drained, but only a keyframe resumes the output
    sink.onPacket(key(ts += 33));
    sink.onPacket(inter(ts += 33));
    sink.close();
    await tick();
    const video = out.tags().filter((t) => t.type === 9 && t.body[1] === 1);
    // After each gap the next frame written is a keyframe.
    for (let i = 1; i < video.length; i++) {
      if (video[i]!.timestamp - video[i - 1]!.timestamp > 33) assert.equal(video[i]!.body[0]! >> 4, 1, `frame ${i} after a gap is a keyframe`);
    }
    assert.equal(video.at(-2)!.body[0]! >> 4, 1);
  });

  it('stops quietly when the destination fails (EPIPE from a dead ffmpeg)', async () => {
    const out = new Writable({ write: (_c, _e, cb) => cb(new Error('EPIPE')) });
    const sink = new FlvSink({ id: 't', out, log: silentLogger(), maxBufferedBytes: 1 << 20 });
    sink.onPacket(key(0));
    await tick();
    await tick();
    assert.doesNotThrow(() => sink.onPacket(key(33)));
    assert.doesNotThrow(() => sink.close());
  });
});
