import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { encodeAmf0 } from '../../media/protocols/rtmp/amf0.js';
import { serializeMessage } from '../../media/protocols/rtmp/chunk-writer.js';
import { setChunkSizeMsg } from '../../media/protocols/rtmp/messages.js';
import { RtmpChunkReader, type RtmpMessage } from './chunk-reader.js';
import { parseRtmpUrl } from './rtmp-client.js';

/** The engine's writer (what a server sends) as input to the stress tool's head-only reader. */
function encodeMessage(m: { csid: number; type: number; streamId: number; timestamp: number; body: Buffer }, chunkSize: number): Buffer[] {
  return [serializeMessage({ csid: m.csid, typeId: m.type, streamId: m.streamId, timestamp: m.timestamp, payload: m.body }, chunkSize)];
}
const controlMessage = (_type: 1, size: number) => {
  const m = setChunkSizeMsg(size);
  return { csid: m.csid, type: m.typeId, streamId: 0, timestamp: 0, body: m.payload };
};

describe('stress RTMP codec', () => {
  it('reads back what the writer wrote, across chunk sizes and splits, keeping only media heads', () => {
    const video = Buffer.alloc(10_000, 3);
    video[0] = 0x17;
    const cmd = encodeAmf0('onStatus', 0, null, { code: 'NetStream.Play.Start' });
    const wire = Buffer.concat([
      ...encodeMessage(controlMessage(1, 4096), 128),
      ...encodeMessage({ csid: 6, type: 9, streamId: 1, timestamp: 0x1234567, body: video }, 4096),
      ...encodeMessage({ csid: 5, type: 20, streamId: 1, timestamp: 0, body: cmd }, 4096),
      ...encodeMessage({ csid: 4, type: 8, streamId: 1, timestamp: 40, body: Buffer.from([0xaf, 1, 9]) }, 4096),
    ]);
    for (const split of [wire.length, 1, 7, 500]) {
      const got: RtmpMessage[] = [];
      const reader = new RtmpChunkReader((m) => got.push({ ...m, body: Buffer.from(m.body) }), 16);
      for (let i = 0; i < wire.length; i += split) reader.push(wire.subarray(i, Math.min(wire.length, i + split)));
      assert.equal(reader.error, undefined);
      assert.deepEqual(got.map((m) => [m.type, m.timestamp, m.length]), [[1, 0, 4], [9, 0x1234567, 10_000], [20, 0, cmd.length], [8, 40, 3]], `split ${split}`);
      assert.equal(got[1]!.body.length, 16, 'media keeps only its head');
      assert.equal(got[1]!.body[0], 0x17);
      assert.deepEqual(got[2]!.body, cmd);
      assert.equal(reader.chunkSize, 4096);
    }
  });

  it('uses extended timestamps at and above 0xffffff', () => {
    const parts = encodeMessage({ csid: 6, type: 9, streamId: 1, timestamp: 0xffffff + 5, body: Buffer.alloc(300) }, 128);
    const got: number[] = [];
    const r = new RtmpChunkReader((m) => got.push(m.timestamp));
    r.push(Buffer.concat(parts));
    assert.deepEqual(got, [0xffffff + 5]);
  });

  it('fails a stream that starts a chunk stream without a full header, or sets a zero chunk size', () => {
    const r = new RtmpChunkReader(() => undefined);
    r.push(Buffer.from([0xc6, 1, 2, 3]));
    assert.match(r.error ?? '', /without a full header/);
    const z = new RtmpChunkReader(() => undefined);
    z.push(Buffer.concat(encodeMessage(controlMessage(1, 0), 128)));
    assert.equal(z.error, 'bad chunk size');
  });

  it('splits rtmp URLs into app, name (with query) and tcUrl', () => {
    assert.deepEqual(parseRtmpUrl('rtmp://127.0.0.1:1936/live/42?token=x'), { host: '127.0.0.1', port: 1936, app: 'live', name: '42?token=x', tcUrl: 'rtmp://127.0.0.1:1936/live' });
    assert.equal(parseRtmpUrl('rtmp://localhost/live/a/b').port, 1935);
    assert.throws(() => parseRtmpUrl('http://x/live/a'), TypeError);
    assert.throws(() => parseRtmpUrl('rtmp://x/live'), TypeError);
  });
});
