import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { accessUnitPayloads, packetizeNalu, parseAvcConfig, readFlvAvc, splitAvcc } from './h264-rtp.js';

const sps = Buffer.from([0x67, 0x42, 0xc0, 0x1f, 0xda, 0x01]);
const pps = Buffer.from([0x68, 0xce, 0x3c, 0x80]);
const record = Buffer.concat([
  Buffer.from([1, 0x42, 0xc0, 0x1f, 0xff, 0xe1]), Buffer.from([0, sps.length]), sps, Buffer.from([1, 0, pps.length]), pps,
]);
const avcc = (...nalus: Buffer[]) => Buffer.concat(nalus.flatMap((n) => [Buffer.from([0, 0, (n.length >> 8) & 0xff, n.length & 0xff]), n]));

describe('h264-rtp', () => {
  it('parses an AVC decoder configuration record', () => {
    const c = parseAvcConfig(record)!;
    assert.equal(c.lengthSize, 4);
    assert.deepEqual(c.sps, [sps]);
    assert.deepEqual(c.pps, [pps]);
    assert.equal(c.profileLevelId, '42c01f');
    assert.equal(parseAvcConfig(record.subarray(0, 9)), undefined);
    assert.equal(parseAvcConfig(Buffer.from([0, 0, 0, 0, 0, 0, 0])), undefined);
  });

  it('splits AVCC and stops at a length past the end', () => {
    const a = Buffer.from([0x65, 1, 2]);
    const b = Buffer.from([0x06, 5]);
    assert.deepEqual(splitAvcc(avcc(a, b), 4), [a, b]);
    assert.deepEqual(splitAvcc(Buffer.concat([avcc(a), Buffer.from([0, 0, 0, 99, 1])]), 4), [a]);
  });

  it('keeps a small NAL unit whole and fragments a large one as FU-A', () => {
    const small = Buffer.from([0x41, 1, 2, 3]);
    assert.deepEqual(packetizeNalu(small, 10), [small]);
    const big = Buffer.concat([Buffer.from([0x65]), Buffer.alloc(20, 9)]);
    const parts = packetizeNalu(big, 10);
    assert.equal(parts.length, 3); // 20 bytes of payload in 8-byte chunks
    assert.deepEqual(parts.map((p) => p[0]), [0x7c, 0x7c, 0x7c]); // NRI of 0x65 | 28
    assert.deepEqual(parts.map((p) => p[1]), [0x85, 0x05, 0x45]); // start, middle, end; type 5
    assert.deepEqual(Buffer.concat(parts.map((p) => p.subarray(2))), big.subarray(1));
  });

  it('puts SPS and PPS before a keyframe that lacks them, drops AUD, leaves delta frames alone', () => {
    const c = parseAvcConfig(record)!;
    const aud = Buffer.from([0x09, 0xf0]);
    const idr = Buffer.from([0x65, 1, 2, 3]);
    assert.deepEqual(accessUnitPayloads(avcc(aud, idr), c, true), [sps, pps, idr]);
    const withOwn = avcc(sps, pps, idr);
    assert.deepEqual(accessUnitPayloads(withOwn, c, true), [sps, pps, idr]);
    const p = Buffer.from([0x41, 7]);
    assert.deepEqual(accessUnitPayloads(avcc(aud, p), c, false), [p]);
  });

  it('reads FLV AVC bodies with their composition time; other codecs are not AVC', () => {
    const k = readFlvAvc(Buffer.from([0x17, 1, 0, 0, 40, 0x65]))!;
    assert.deepEqual([k.isKeyframe, k.packetType, k.compositionTime], [true, 1, 40]);
    assert.equal(readFlvAvc(Buffer.from([0x27, 1, 0xff, 0xff, 0xd8, 0x41]))!.compositionTime, -40);
    assert.equal(readFlvAvc(Buffer.from([0x1c, 1, 0, 0, 0, 0])), undefined); // HEVC (codec 12)
    assert.equal(readFlvAvc(Buffer.from([0x90, 1, 0, 0, 0, 0])), undefined); // enhanced FLV
  });
});
