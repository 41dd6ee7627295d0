import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ChunkReader } from './chunk-reader.js';
import { serializeMessage } from './chunk-writer.js';
import { RtmpProtocolError } from './rtmp-error.js';
import type { RtmpMessage } from './message-types.js';
import { setChunkSizeMsg } from './messages.js';

const collect = (limits = {}) => {
  const got: RtmpMessage[] = [];
  const reader = new ChunkReader((m) => got.push(m), limits);
  return { got, reader };
};
const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe(ChunkReader.name, () => {
  it('reads what serializeMessage writes, split over several chunks, with any byte split', () => {
    const payload = randomBytes(10_000);
    const wire = Buffer.concat([
      serializeMessage(setChunkSizeMsg(1000), 128),
      serializeMessage({ csid: 6, typeId: 9, streamId: 1, timestamp: 40, payload }, 1000),
      serializeMessage({ csid: 6, typeId: 9, streamId: 1, timestamp: 0x1234567, payload: payload.subarray(0, 3000) }, 1000),
    ]);
    for (const step of [1, 3, 100, wire.length]) {
      const { got, reader } = collect();
      for (let i = 0; i < wire.length; i += step) reader.push(wire.subarray(i, i + step));
      assert.equal(got.length, 3);
      assert.equal(reader.chunkSize, 1000);
      assert.deepEqual(got[1]!.payload, payload);
      assert.equal(got[1]!.timestamp, 40);
      assert.equal(got[2]!.timestamp, 0x1234567, 'extended timestamp, repeated on type-3 chunks');
      assert.equal(got[2]!.payload.length, 3000);
    }
  });

  it('applies type 1, 2 and 3 headers as deltas', () => {
    const { got, reader } = collect();
    reader.push(hex('04 000064 000002 08 01000000 aabb')); // type 0: ts 100, len 2, audio, stream 1
    reader.push(hex('44 00000a 000001 08 cc')); // type 1: +10, len 1
    reader.push(hex('84 000005 dd')); // type 2: +5
    reader.push(hex('c4 ee')); // type 3: +5 again
    assert.deepEqual(got.map((m) => m.timestamp), [100, 110, 115, 120]);
    assert.deepEqual(got.map((m) => m.payload.length), [2, 1, 1, 1]);
    assert.equal(got[3]!.streamId, 1);
  });

  it('uses 2- and 3-byte chunk stream ids', () => {
    const { got, reader } = collect();
    reader.push(serializeMessage({ csid: 100, typeId: 8, streamId: 1, timestamp: 0, payload: Buffer.from([1]) }, 128));
    reader.push(serializeMessage({ csid: 5000, typeId: 8, streamId: 1, timestamp: 0, payload: Buffer.from([2]) }, 128));
    assert.deepEqual(got.map((m) => m.csid), [100, 5000]);
  });

  it('drops a partial message on Abort', () => {
    const { got, reader } = collect();
    reader.push(hex('06 000000 000100 09 01000000') /* 256-byte video, first 128 bytes: */);
    reader.push(Buffer.alloc(128));
    reader.push(serializeMessage({ csid: 2, typeId: 2, streamId: 0, timestamp: 0, payload: hex('00000006') }, 128));
    reader.push(hex('06 000000 000001 09 01000000 ff'));
    assert.deepEqual(got.map((m) => m.typeId), [2, 9]);
    assert.equal(got[1]!.payload.length, 1);
  });

  it('holds messages while paused and delivers them on resume', () => {
    const got: number[] = [];
    const reader: ChunkReader = new ChunkReader((m) => {
      got.push(m.payload[0]!);
      if (m.payload[0] === 1) reader.pause();
    });
    const wire = Buffer.concat([1, 2, 3].map((n) => serializeMessage({ csid: 3, typeId: 20, streamId: 0, timestamp: 0, payload: Buffer.from([n]) }, 128)));
    reader.push(wire);
    assert.deepEqual(got, [1]);
    assert.ok(reader.bufferedBytes > 0);
    reader.resume();
    assert.deepEqual(got, [1, 2, 3]);
  });

  const bad: [string, Buffer][] = [
    ['chunk size 0', serializeMessage({ csid: 2, typeId: 1, streamId: 0, timestamp: 0, payload: hex('00000000') }, 128)],
    ['chunk size over the cap', serializeMessage({ csid: 2, typeId: 1, streamId: 0, timestamp: 0, payload: hex('00100000') }, 128)],
    ['message over the length cap', hex('06 000000 ffffff 09 01000000')],
    ['a chunk stream starting with a type-1 header', hex('46 000000 000001 09 00')],
  ];
  for (const [name, bytes] of bad) {
    it(`rejects ${name}`, () => assert.throws(() => collect().reader.push(bytes), RtmpProtocolError));
  }

  it('caps the number of chunk streams', () => {
    const { reader } = collect({ maxChunkStreams: 4 });
    assert.throws(() => {
      for (let cs = 3; cs < 10; cs++) reader.push(hex(`${(cs).toString(16).padStart(2, '0')} 000000 000001 09 01000000 00`));
    }, RtmpProtocolError);
  });

  it('never throws anything but RtmpProtocolError on random bytes, and stays bounded', () => {
    for (let i = 0; i < 3000; i++) {
      const { reader } = collect({ maxMessageSize: 1 << 20, maxPendingBytes: 1 << 20 });
      try {
        for (let j = 0; j < 8; j++) reader.push(randomBytes(1 + ((i * 7 + j) % 300)));
      } catch (err) {
        assert.ok(err instanceof RtmpProtocolError, String(err));
      }
      assert.ok(reader.bufferedBytes < 4096);
    }
  });

  it('holds a message sent in 1-byte chunks (Set Chunk Size 1) in memory about its size, not a buffer object per byte', () => {
    // Before, every chunk's bytes were kept as their own Buffer until the message completed: a
    // 4 MiB message in 1-byte chunks (8 MiB on the wire, before any publish) held 4 million
    // objects, ~370 MB of the server's memory per connection.
    const { got, reader } = collect();
    reader.push(serializeMessage(setChunkSizeMsg(1), 128));
    const length = 4 * 1024 * 1024;
    reader.push(Buffer.from([0x04, 0, 0, 0, length >> 16, (length >> 8) & 0xff, length & 0xff, 9, 1, 0, 0, 0, 0x17]));
    const pairs = Buffer.alloc(2 * 64 * 1024);
    for (let i = 0; i < pairs.length; i += 2) pairs[i] = 0xc4; // type-3 header on chunk stream 4, then one byte
    const heap0 = process.memoryUsage().heapUsed;
    for (let sent = 1; sent + 64 * 1024 <= length; sent += 64 * 1024) reader.push(pairs);
    const grew = process.memoryUsage().heapUsed - heap0;
    assert.ok(grew < 100 * 1024 * 1024, `the heap grew by ${(grew / 1e6).toFixed(0)} MB for a 4 MiB message`);
    reader.push(Buffer.concat(Array.from({ length: 64 * 1024 - 1 }, () => Buffer.from([0xc4, 0x01]))));
    assert.equal(got.length, 2, 'Set Chunk Size, then the message');
    const payload = got[1]!.payload;
    assert.equal(payload.length, length);
    assert.equal(payload[0], 0x17);
    assert.equal(payload[length - 1], 0x01);
    assert.equal(payload[length - 64 * 1024], 0x00);
  });
});
