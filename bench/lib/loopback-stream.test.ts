import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFlvFile, type FileTag } from '../../stress/flv/flv-file.js';
import { FlvTagScanner } from '../../stress/flv/flv-tag-scanner.js';
import { HttpResponseReader } from '../../stress/viewers/http-response.js';
import { ceilingStep, decodeTickStream, encodeTickStream, FLV_FILE_HEADER, HTTP_HEAD, isInitTag, tagBytes, tickBytes, tickStream } from './loopback-stream.js';

const tag = (type: number, timestamp: number, body: number[]): FileTag => ({ type, timestamp, body: Buffer.from(body) });

/** A 1 s sample: script data, AVC and AAC sequence headers, then a frame every 40 ms and an audio frame every 50 ms. */
function sample(): FileTag[] {
  const tags = [tag(18, 0, [2, 0, 1]), tag(9, 0, [0x17, 0, 0, 0, 0]), tag(8, 0, [0xaf, 0, 0x12])];
  for (let t = 0; t < 1000; t += 10) {
    if (t % 40 === 0) tags.push(tag(9, t, [t % 400 === 0 ? 0x17 : 0x27, 1, 0, 0, 0, ...Array<number>(100).fill(t % 256)]));
    if (t % 50 === 0) tags.push(tag(8, t, [0xaf, 1, ...Array<number>(20).fill(1)]));
  }
  return tags;
}

describe('loopback stream', () => {
  it('writes a tag as FLV does: header, body, PreviousTagSize, extended timestamp', () => {
    const b = tagBytes(tag(9, 0x01020304, [0xaa, 0xbb]));
    assert.deepEqual([...b], [9, 0, 0, 2, 0x02, 0x03, 0x04, 0x01, 0, 0, 0, 0xaa, 0xbb, 0, 0, 0, 13]);
    const parsed = readFlvFile(Buffer.concat([FLV_FILE_HEADER, b]));
    assert.deepEqual(parsed.tags.map((t) => [t.type, t.timestamp, [...t.body]]), [[9, 0x01020304, [0xaa, 0xbb]]]);
  });

  it('tells the init tags (script data, AVC / AAC sequence headers) from frames', () => {
    assert.deepEqual(sample().slice(0, 5).map(isInitTag), [true, true, true, false, false]);
  });

  it('cuts the media tags into 100 ms ticks of whole tags; the head holds the HTTP head, FLV header and init tags', () => {
    const tags = sample();
    const s = tickStream(tags, 1000);
    assert.equal(s.chunks.length, 10);
    const media = tags.filter((t) => !isInitTag(t));
    const bytes = (ts: FileTag[]) => ts.reduce((n, t) => n + 15 + t.body.length, 0);
    // Tick 0: frames at 0, 40, 80 ms and audio at 0, 50 ms.
    assert.equal(s.chunks[0]!.length, bytes(media.filter((t) => t.timestamp < 100)));
    assert.equal(s.chunks.reduce((n, c) => n + c.length, 0), bytes(media));
    assert.equal(s.bytesPerSec, bytes(media));
    assert.equal(s.head.toString('latin1', 0, HTTP_HEAD.length), HTTP_HEAD);
    assert.equal(s.head.length, HTTP_HEAD.length + 13 + bytes(tags.filter(isInitTag)));
  });

  it('puts tags past the last whole tick into the last one, so the loop lasts ticks x 100 ms', () => {
    const tags = [tag(9, 0, [0x17, 1]), tag(9, 120, [0x27, 1]), tag(9, 250, [0x27, 1])];
    const s = tickStream(tags, 220);
    assert.deepEqual(s.chunks.map((c) => c.length), [17, 34]);
    assert.equal(s.bytesPerSec, (51 / 200) * 1000);
  });

  it('is read by the stress tool\'s HTTP-FLV viewer from any tick on, whole ticks dropped or not', () => {
    const s = tickStream(sample(), 1000);
    for (const ticks of [[0, 1, 2, 3], [7, 8, 9, 0, 1], [3, 6, 9]]) {
      const seen: number[] = [];
      const scanner = new FlvTagScanner((t) => seen.push(t.type));
      const http = new HttpResponseReader((buf, a, b) => scanner.push(buf, a, b));
      const wire = Buffer.concat([s.head, ...ticks.map((i) => s.chunks[i]!)]);
      for (let i = 0; i < wire.length; i += 7) http.push(wire, i, Math.min(wire.length, i + 7));
      assert.equal(http.status, 200);
      assert.equal(scanner.failed, false, scanner.error);
      assert.deepEqual(seen.slice(0, 3), [18, 9, 8]);
    }
  });

  it('round-trips the writers\' file', () => {
    const s = tickStream(sample(), 1000);
    const d = decodeTickStream(encodeTickStream(s));
    assert.equal(d.tickMs, 100);
    assert.deepEqual(d.head, s.head);
    assert.deepEqual(d.chunks, s.chunks);
    assert.throws(() => decodeTickStream(Buffer.from('nope, not this one')), /not a tick stream/);
    assert.throws(() => decodeTickStream(encodeTickStream(s).subarray(0, -1)), /do not add up/);
  });

  it('says how many bytes a 100 ms tick of a 2.15 Mb/s stream carries', () => {
    assert.equal(tickBytes(2_150_000 / 8), 26_875);
    assert.equal(tickBytes(275_507), 27_551);
  });

  it('finds the first step where the core saturates or viewers suffer', () => {
    const rows = [
      { viewers: 6400, healthyShare: 0.99, core0Percent: 92 },
      { viewers: 3200, healthyShare: 1, core0Percent: 40 },
      { viewers: 4800, healthyShare: 0.9, core0Percent: 70 },
    ];
    assert.deepEqual(ceilingStep(rows, 90), { row: rows[2], why: '90.0 % healthy' });
    assert.equal(ceilingStep(rows.slice(0, 2), 90)?.why, 'core 0 at 92 %');
    assert.equal(ceilingStep([rows[1]!], 90), undefined);
  });
});
