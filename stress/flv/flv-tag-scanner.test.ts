import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FlvTagScanner, MAX_TAG_SIZE, type FlvTag } from './flv-tag-scanner.js';
import { CLOCK_HEAD_BYTES, isVideoKeyframe, readClock, withClock } from './clock-sei.js';

function tag(type: number, timestamp: number, body: Buffer): Buffer {
  const h = Buffer.alloc(11);
  h[0] = type;
  h.writeUIntBE(body.length, 1, 3);
  h.writeUIntBE(timestamp & 0xffffff, 4, 3);
  h[7] = (timestamp >>> 24) & 0xff;
  const trailer = Buffer.alloc(4);
  trailer.writeUInt32BE(11 + body.length);
  return Buffer.concat([h, body, trailer]);
}

const FILE_HEADER = Buffer.from([0x46, 0x4c, 0x56, 1, 5, 0, 0, 0, 9, 0, 0, 0, 0]);
const avcKey = Buffer.concat([Buffer.from([0x17, 1, 0, 0, 0, 0, 0, 0, 4, 0x65, 0x88, 0x84, 0x00]), Buffer.alloc(200, 7)]);
const avcInter = Buffer.from([0x27, 1, 0, 0, 0, 0, 0, 0, 2, 0x41, 0x9a]);
const avcSeqHeader = Buffer.from([0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f]);
const aac = Buffer.from([0xaf, 1, 0x21, 0x10]);

function collect(chunks: Buffer[], headBytes = 16): { tags: (FlvTag & { head: string })[]; scanner: FlvTagScanner } {
  const tags: (FlvTag & { head: string })[] = [];
  const scanner = new FlvTagScanner((t, head) => tags.push({ ...t, head: head.toString('hex') }), headBytes);
  for (const c of chunks) scanner.push(c);
  return { tags, scanner };
}

describe('FlvTagScanner', () => {
  const stream = Buffer.concat([FILE_HEADER, tag(18, 0, Buffer.from([2, 0, 1, 0x61])), tag(9, 0, avcSeqHeader), tag(8, 10, aac), tag(9, 0x01020304, avcKey), tag(9, 33, avcInter)]);

  it('reports every tag with type, timestamp (with the extension byte), size and head', () => {
    const { tags, scanner } = collect([stream]);
    assert.equal(scanner.failed, false);
    assert.deepEqual(tags.map((t) => [t.type, t.timestamp, t.dataSize]), [[18, 0, 4], [9, 0, 9], [8, 10, 4], [9, 0x01020304, avcKey.length], [9, 33, avcInter.length]]);
    assert.equal(tags[3]!.head, avcKey.subarray(0, 16).toString('hex'));
    assert.equal(tags[4]!.head, avcInter.toString('hex'));
  });

  it('gives the same result whatever the split of the input', () => {
    const whole = collect([stream]).tags;
    const bytes = collect([...stream].map((b) => Buffer.from([b]))).tags;
    assert.deepEqual(bytes, whole);
    for (let cut = 1; cut < stream.length; cut += 7) {
      assert.deepEqual(collect([stream.subarray(0, cut), stream.subarray(cut)]).tags, whole, `cut at ${cut}`);
    }
  });

  it('accepts bare tags (no file header) when asked', () => {
    const tags: number[] = [];
    const s = new FlvTagScanner((t) => tags.push(t.type), 8, true);
    s.push(Buffer.concat([tag(8, 0, aac), tag(9, 0, avcInter)]));
    assert.deepEqual(tags, [8, 9]);
  });

  it('rejects a stream that is not FLV, an unknown tag type and an oversized tag', () => {
    assert.equal(collect([Buffer.from('HTTP/1.1 200 OK\r\n\r\n')]).scanner.error, 'not an FLV stream');
    const badType = Buffer.concat([FILE_HEADER, tag(7, 0, aac)]);
    assert.match(collect([badType]).scanner.error ?? '', /unknown tag type 7/);
    const huge = Buffer.from(FILE_HEADER);
    const h = Buffer.alloc(11);
    h[0] = 9;
    h.writeUIntBE(MAX_TAG_SIZE + 1, 1, 3);
    const { scanner, tags } = collect([huge, h, Buffer.alloc(100)]);
    assert.equal(scanner.error, 'tag too large');
    assert.equal(tags.length, 0);
  });
});

describe('keyframes and the SEI clock', () => {
  it('tells keyframes from sequence headers, inter frames and audio', () => {
    assert.equal(isVideoKeyframe(9, avcKey), true);
    assert.equal(isVideoKeyframe(9, avcSeqHeader), false);
    assert.equal(isVideoKeyframe(9, avcInter), false);
    assert.equal(isVideoKeyframe(8, aac), false);
    // Enhanced RTMP HEVC: ex-header bit, frame type 1, packet type 1 (coded frames) / 0 (sequence start)
    assert.equal(isVideoKeyframe(9, Buffer.from([0x91, 0x68, 0x76, 0x63, 0x31])), true);
    assert.equal(isVideoKeyframe(9, Buffer.from([0x90, 0x68, 0x76, 0x63, 0x31])), false);
  });

  it('round-trips the wall clock through a video tag and a scanner', () => {
    const now = 1_763_000_000_123;
    const stamped = withClock(avcKey, now);
    assert.equal(stamped.length, avcKey.length + 37);
    assert.equal(readClock(stamped.subarray(0, CLOCK_HEAD_BYTES)), now);
    assert.equal(isVideoKeyframe(9, stamped), true, 'still a keyframe');
    const clocks: (number | undefined)[] = [];
    const s = new FlvTagScanner((_t, head) => clocks.push(readClock(head)), CLOCK_HEAD_BYTES, true);
    s.push(Buffer.concat([tag(9, 0, stamped), tag(9, 33, avcInter), tag(8, 40, aac)]));
    assert.deepEqual(clocks, [now, undefined, undefined]);
  });

  it('leaves sequence headers and non-AVC bodies alone, and reads no clock from them', () => {
    assert.equal(withClock(avcSeqHeader, 5), avcSeqHeader);
    assert.equal(withClock(aac, 5), aac);
    assert.equal(readClock(Buffer.concat([avcKey, Buffer.alloc(64)])), undefined);
  });
});
