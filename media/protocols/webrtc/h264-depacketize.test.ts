import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { H264Depacketizer, avcConfigRecord, flvAvcFrame, type RtpIn } from './h264-depacketize.js';
import { packetizeNalu, parseAvcConfig, readFlvAvc, splitAvcc } from './h264-rtp.js';

const sps = Buffer.from([0x67, 0x42, 0xe0, 0x1f, 0xda, 0x02, 0x80]);
const pps = Buffer.from([0x68, 0xce, 0x3c, 0x80]);
const nal = (type: number, size: number, fill: number) => Buffer.concat([Buffer.from([0x60 | type]), Buffer.alloc(size - 1, fill)]);
const stapA = (...nalus: Buffer[]) => Buffer.concat([Buffer.from([0x78]), ...nalus.flatMap((n) => [Buffer.from([n.length >> 8, n.length & 0xff]), n])]);

/** RTP packets of frames: [timestamp, payloads][], sequence numbers from `seq`, marker on each frame's last. */
function rtp(frames: [number, Buffer[]][], seq = 65530): RtpIn[] {
  const out: RtpIn[] = [];
  for (const [ts, payloads] of frames) {
    payloads.forEach((payload, i) => out.push({ sequenceNumber: seq++ & 0xffff, timestamp: ts, marker: i === payloads.length - 1, payload }));
  }
  return out;
}

describe('H.264 RTP depacketizer (WHIP)', () => {
  const idr = nal(5, 5000, 1);
  const p1 = nal(1, 800, 2);
  const p2 = nal(1, 3000, 3);

  it('reads STAP-A (SPS+PPS), FU-A and single NAL packets into frames, across a sequence wrap', () => {
    const d = new H264Depacketizer();
    const packets = rtp([[1000, [stapA(sps, pps), ...packetizeNalu(idr)]], [4000, packetizeNalu(p1)], [7000, packetizeNalu(p2)]]);
    const frames = packets.flatMap((p) => d.push(p));
    assert.equal(frames.length, 3);
    assert.deepEqual(frames.map((f) => [f.rtpTimestamp, f.isKeyframe, f.configChanged]), [[1000, true, true], [4000, false, false], [7000, false, false]]);
    assert.deepEqual(frames[0]!.nalus, [idr]);
    assert.deepEqual(frames[2]!.nalus, [p2]);
    assert.deepEqual(d.sps, sps);
    assert.deepEqual(d.pps, pps);
    assert.equal(d.needKeyframe, false);
  });

  it('drops frames before the first keyframe and from a loss to the next keyframe, asking for one', () => {
    const d = new H264Depacketizer();
    const packets = rtp([[0, packetizeNalu(p1)], [3000, [stapA(sps, pps), ...packetizeNalu(idr)]], [6000, packetizeNalu(p2)], [9000, packetizeNalu(p1)], [12000, [stapA(sps, pps), ...packetizeNalu(idr)]]]);
    const lost = packets.findIndex((p) => p.timestamp === 6000) + 1; // the second fragment of p2
    const frames = packets.filter((_, i) => i !== lost).flatMap((p) => d.push(p));
    assert.deepEqual(frames.map((f) => f.rtpTimestamp), [3000, 12000]);
    assert.equal(d.dropped, 3);
    assert.equal(d.needKeyframe, false);
  });

  it('ends a frame at the next timestamp when its marker is lost', () => {
    const d = new H264Depacketizer();
    const packets = rtp([[0, [stapA(sps, pps), idr]], [3000, [p1]]]);
    packets[0]!.marker = packets[1]!.marker = false;
    assert.deepEqual(d.push(packets[0]!), []);
    assert.deepEqual(d.push(packets[1]!), []);
    assert.deepEqual(d.push(packets[2]!).map((f) => [f.rtpTimestamp, f.isKeyframe]), [[0, true], [3000, false]]);
  });

  it('builds the AVC configuration record and AVCC frames the FLV side reads back', () => {
    const cfg = parseAvcConfig(avcConfigRecord(sps, pps))!;
    assert.deepEqual([cfg.lengthSize, cfg.sps, cfg.pps, cfg.profileLevelId], [4, [sps], [pps], '42e01f']);
    const avc = readFlvAvc(flvAvcFrame([idr, p1], true))!;
    assert.deepEqual([avc.isKeyframe, avc.packetType, avc.compositionTime], [true, 1, 0]);
    assert.deepEqual(splitAvcc(avc.data, 4), [idr, p1]);
  });
});
