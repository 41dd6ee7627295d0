import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CATCH_UP_SPEEDUP, VideoRtpSink, type RtpOut } from './video-sink.js';

describe('WHEP video sink timing', () => {
  const sender: RtpOut = { send: () => true };

  it('squeezes the start-up burst towards the live edge; live frames keep their time', () => {
    const sink = new VideoRtpSink(sender, { onBFrames() {} }, 10_000);
    // A 2 s GOP cached from 8000 ms: it lasts 2000 / CATCH_UP_SPEEDUP ms on the RTP clock.
    const burst = [8000, 8033, 9000, 9967, 10_000].map((t) => sink.rtpTimestamp(t));
    assert.equal(burst[0], 10_000 * 90 - Math.round((2000 * 90) / CATCH_UP_SPEEDUP));
    assert.equal(burst.at(-1), 10_000 * 90);
    for (let i = 1; i < burst.length; i++) assert.ok(burst[i]! > burst[i - 1]!, 'monotonic');
    assert.equal(sink.rtpTimestamp(10_033), 10_033 * 90);
  });

  it('without a live edge every frame keeps its time, wrapped to 32 bits', () => {
    const sink = new VideoRtpSink(sender, { onBFrames() {} });
    assert.equal(sink.rtpTimestamp(1000), 90_000);
    assert.equal(sink.rtpTimestamp(0xffff_ffff), (0xffff_ffff * 90) % 0x1_0000_0000);
  });
});

describe('WHEP video sink packetization', () => {
  const sps = Buffer.from([0x67, 0x42, 0xc0, 0x1f, 0xda, 0x01]);
  const pps = Buffer.from([0x68, 0xce, 0x3c, 0x80]);
  const record = Buffer.concat([Buffer.from([1, 0x42, 0xc0, 0x1f, 0xff, 0xe1, 0, sps.length]), sps, Buffer.from([1, 0, pps.length]), pps]);
  const nalu = (n: Buffer) => Buffer.concat([Buffer.from([0, 0, (n.length >> 8) & 0xff, n.length & 0xff]), n]);
  const videoTag = (body: Buffer, ts: number) => {
    const h = Buffer.alloc(11);
    h[0] = 9;
    h.writeUIntBE(body.length, 1, 3);
    h.writeUIntBE(ts & 0xffffff, 4, 3);
    return Buffer.concat([h, body]);
  };
  const header = videoTag(Buffer.concat([Buffer.from([0x17, 0, 0, 0, 0]), record]), 0);
  const idr = Buffer.concat([Buffer.from([0x65]), Buffer.alloc(3000, 7)]);
  const keyframe = videoTag(Buffer.concat([Buffer.from([0x17, 1, 0, 0, 0]), nalu(idr)]), 40);

  it('packetizes a frame once for every viewer of the stream (the same payload buffers reach each)', () => {
    const sent: Buffer[][] = [[], []];
    for (const k of [0, 1]) {
      const sink = new VideoRtpSink({ send: (p) => (sent[k]!.push(p), true) }, { onBFrames() {} });
      sink.write(header);
      sink.write(keyframe);
    }
    // SPS, PPS, then the 3000-byte IDR as FU-A fragments.
    assert.deepEqual(sent[0]!.slice(0, 2), [sps, pps]);
    assert.ok(sent[0]!.length > 3);
    assert.equal(sent[1]!.length, sent[0]!.length);
    for (let i = 0; i < sent[0]!.length; i++) assert.equal(sent[1]![i], sent[0]![i], `payload ${i} is the same buffer`);
  });
});
