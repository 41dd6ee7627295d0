import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { encodeAmf0, AmfEcmaArray } from './amf0.js';
import { parseCommand, parseConnect, streamNameArg, stripSetDataFrame, parseMetadata, splitQuery } from './messages.js';
import { RtmpProtocolError } from './rtmp-error.js';

const cmd = (...values: Parameters<typeof encodeAmf0>) => parseCommand({ typeId: 20, payload: encodeAmf0(...values) });

describe('RTMP commands', () => {
  it('parses connect with app, tcUrl and their queries', () => {
    const c = parseConnect(cmd('connect', 1, { app: 'live?token=a', tcUrl: 'rtmp://h/live?token=b&x=1', objectEncoding: 0 }));
    assert.deepEqual(c, { app: 'live', tcUrl: 'rtmp://h/live?token=b&x=1', objectEncoding: 0, query: { token: 'a', x: '1' } });
  });

  it('parses connect without tcUrl (NMS killer) and without a command object', () => {
    assert.deepEqual(parseConnect(cmd('connect', 1, { app: 'live' })), { app: 'live', tcUrl: undefined, objectEncoding: 0, query: {} });
    assert.equal(parseConnect(cmd('connect', 1, null)).app, '');
    assert.equal(parseConnect(cmd('connect', 1, 'not an object')).app, '');
  });

  it('parses an AMF3 command (leading zero byte)', () => {
    const c = parseCommand({ typeId: 17, payload: Buffer.concat([Buffer.from([0]), encodeAmf0('play', 4, null, 'room1')]) });
    assert.equal(c.name, 'play');
    assert.equal(streamNameArg(c), 'room1');
  });

  it('refuses a numeric publish name (NMS killer) with a protocol error, not a crash', () => {
    assert.throws(() => streamNameArg(cmd('publish', 5, null, 12345, 'live')), RtmpProtocolError);
    assert.throws(() => streamNameArg(cmd('publish', 5, null)), RtmpProtocolError);
    assert.throws(() => streamNameArg(cmd('publish', 5, null, '')), RtmpProtocolError);
  });

  it('rejects a command whose name is not a string', () => {
    assert.throws(() => parseCommand({ typeId: 20, payload: encodeAmf0(5, 1) }), RtmpProtocolError);
  });

  it('tolerates unknown commands', () => {
    assert.equal(cmd('getStreamLength', 3, null, 'x').name, 'getStreamLength');
    assert.equal(cmd('whatever', 9, null).transactionId, 9);
  });

  it('strips @setDataFrame and parses the metadata', () => {
    const body = encodeAmf0('onMetaData', new AmfEcmaArray({ width: 640, height: 360, framerate: 30 }));
    const msg = Buffer.concat([encodeAmf0('@setDataFrame'), body]);
    assert.deepEqual(stripSetDataFrame(msg), body);
    assert.deepEqual(parseMetadata(body), { width: 640, height: 360, framerate: 30 });
    assert.equal(parseMetadata(Buffer.from([0x02, 0, 0, 0x11])), undefined);
  });

  it('splits a query from a name', () => {
    assert.deepEqual(splitQuery('room1?token=good&a=1&a=2'), { name: 'room1', query: { token: 'good', a: '1' } });
    assert.deepEqual(splitQuery('key'), { name: 'key', query: {} });
  });
});
