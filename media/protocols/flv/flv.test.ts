import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { FLV_HEADER, encodeFlvTag, isSequenceHeader, isVideoKeyframe, FLV_TAG_AUDIO, FLV_TAG_VIDEO } from './flv-tag.js';
import { FlvParser, FlvParseError } from './flv-parser.js';

describe('FLV tags', () => {
  it('builds the 13-byte header with the audio/video flags', () => {
    assert.deepEqual([...FLV_HEADER(true, true)], [0x46, 0x4c, 0x56, 1, 5, 0, 0, 0, 9, 0, 0, 0, 0]);
    assert.equal(FLV_HEADER(false, true)[4], 1);
    assert.equal(FLV_HEADER(true, false)[4], 4);
  });

  it('encodes a tag with the extended timestamp byte and PreviousTagSize', () => {
    const tag = encodeFlvTag(FLV_TAG_VIDEO, 0x12345678, Buffer.from([1, 2, 3]));
    assert.equal(tag.length, 11 + 3 + 4);
    assert.equal(tag[0], 9);
    assert.equal(tag.readUIntBE(1, 3), 3);
    assert.equal(tag.readUIntBE(4, 3), 0x345678);
    assert.equal(tag[7], 0x12);
    assert.equal(tag.readUInt32BE(14), 14);
  });

  it('classifies keyframes and sequence headers', () => {
    assert.equal(isVideoKeyframe(Buffer.from([0x17, 1])), true);
    assert.equal(isVideoKeyframe(Buffer.from([0x27, 1])), false);
    assert.equal(isSequenceHeader(FLV_TAG_VIDEO, Buffer.from([0x17, 0])), true);
    assert.equal(isSequenceHeader(FLV_TAG_VIDEO, Buffer.from([0x17, 1])), false);
    assert.equal(isSequenceHeader(FLV_TAG_AUDIO, Buffer.from([0xaf, 0])), true);
    assert.equal(isSequenceHeader(FLV_TAG_AUDIO, Buffer.from([0xaf, 1])), false);
    assert.equal(isSequenceHeader(FLV_TAG_VIDEO, Buffer.from([0x90, 0])), true); // enhanced RTMP key + SequenceStart
  });
});

describe(FlvParser.name, () => {
  const stream = () => {
    const tags = [
      encodeFlvTag(18, 0, Buffer.from('meta')),
      encodeFlvTag(9, 0, Buffer.from([0x17, 0, 0, 0, 0])),
      encodeFlvTag(8, 10, randomBytes(300)),
      encodeFlvTag(9, 33, randomBytes(70_000)),
      encodeFlvTag(9, 0xfffffff0, Buffer.from([0x27, 1])),
    ];
    return Buffer.concat([FLV_HEADER(true, true), ...tags]);
  };

  it('parses a stream pushed whole', () => {
    const p = new FlvParser();
    const tags = p.push(stream());
    assert.deepEqual(tags.map((t) => t.type), [18, 9, 8, 9, 9]);
    assert.deepEqual(tags.map((t) => t.timestamp), [0, 0, 10, 33, 0xfffffff0]);
    assert.equal(tags[3]!.body.length, 70_000);
    assert.deepEqual(p.header, { version: 1, hasAudio: true, hasVideo: true });
  });

  for (const step of [1, 7, 13, 1000]) {
    it(`parses the same stream pushed in ${step}-byte pieces`, () => {
      const whole = stream();
      const p = new FlvParser();
      const seen: number[] = [];
      for (let i = 0; i < whole.length; i += step) {
        for (const t of p.push(whole.subarray(i, i + step))) seen.push(t.body.length);
      }
      assert.deepEqual(seen, [4, 5, 300, 70_000, 2]);
      assert.equal(p.pendingBytes, 0);
      assert.equal(p.tagCount, 5);
    });
  }

  it('rejects a bad signature, an oversized tag and a wrong PreviousTagSize with FlvParseError', () => {
    assert.throws(() => new FlvParser().push(Buffer.from('GIF89a-------------')), FlvParseError);
    const big = Buffer.concat([FLV_HEADER(true, true), Buffer.from([9, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0])]);
    assert.throws(() => new FlvParser({ maxTagSize: 1024 }).push(big), FlvParseError);
    const bad = Buffer.concat([FLV_HEADER(true, true), encodeFlvTag(9, 0, Buffer.from([1, 2]))]);
    bad.writeUInt32BE(99, bad.length - 4);
    assert.throws(() => new FlvParser().push(bad), FlvParseError);
  });

  it('never throws anything but FlvParseError on random bytes', () => {
    for (let i = 0; i < 2000; i++) {
      const p = new FlvParser({ maxTagSize: 1 << 20 });
      const junk = Buffer.concat([FLV_HEADER(true, true), randomBytes(1 + (i % 200))]);
      try {
        p.push(junk);
      } catch (err) {
        assert.ok(err instanceof FlvParseError, String(err));
      }
    }
  });
});
