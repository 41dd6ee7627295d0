import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { serializeMessage } from '../../protocols/rtmp/chunk-writer.js';
import * as M from '../../protocols/rtmp/messages.js';
import { connectReplies, connectReplyBytes, resultBytes, statusBytes } from './replies.js';

describe('prebuilt RTMP replies: the bytes a fresh serialization gives, whatever the client sent', () => {
  it('the connect replies in one buffer: window, bandwidth, Set Chunk Size at 128, _result at the out chunk size', () => {
    for (const [tx, enc] of [[1, 0], [1, 3], [2.5, 0], [-0, 0], [0, -0], [1e9, 3], [1, 0]] as const) {
      const [w, b, c, r] = connectReplies(tx, enc, 4096);
      const expected = Buffer.concat([serializeMessage(w!, 128), serializeMessage(b!, 128), serializeMessage(c!, 128), serializeMessage(r!, 4096)]);
      assert.deepEqual(connectReplyBytes(tx, enc, 4096), expected, `tx ${Object.is(tx, -0) ? '-0' : tx}, enc ${Object.is(enc, -0) ? '-0' : enc}`);
    }
  });

  it('_result and onStatus for every transaction or stream id, -0 apart from 0 (AMF keeps the sign)', () => {
    for (const tx of [0, -0, 0, 2, 4, 4, 17, -3, Number.NaN, 2 ** 40]) {
      for (const value of [1, undefined]) {
        assert.deepEqual(resultBytes(4096, tx, value), serializeMessage(M.commandMsg(0, '_result', tx, null, value), 4096));
        assert.deepEqual(resultBytes(128, tx, value), serializeMessage(M.commandMsg(0, '_result', tx, null, value), 128));
      }
    }
    for (const id of [1, 1, 0, 7, 300, 2 ** 32 - 1]) {
      assert.deepEqual(statusBytes(4096, id, 'error', 'NetStream.Play.Failed', 'Server full.'),
        serializeMessage(M.onStatusMsg(id, 'error', 'NetStream.Play.Failed', 'Server full.'), 4096));
    }
  });
});
