/**
 * A stream key never reaches the log, wherever a client puts it: as the name of an HTTP-FLV,
 * WS-FLV, HLS or RTMP play (refused: the name is unverified input), in paths nothing serves, as
 * the RTMP app, or as the publish name of a real publish. The whole stack (startOnair) logs at
 * trace level into memory through the production logger (createLogger).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import WebSocket from 'ws';
import { createLogger } from '../../core/logging/logger.js';
import { RtmpClient } from '../../media/servers/rtmp/client.js';
import { startStack, until, type Stack } from './onair-stack.js';

describe('stream keys and the log', () => {
  let stack: Stack;
  let logs = '';
  let key = '';
  let roomId = '';
  before(async () => {
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        logs += chunk.toString();
        done();
      },
    });
    stack = await startStack({ ONAIR_HLS: 'true' }, { log: createLogger({ level: 'trace', destination }) });
    const anchor = await stack.user('anchor');
    const room = await stack.call('POST', '/rooms', { title: 'secret keys' }, anchor.token);
    assert.equal(room.status, 201);
    key = room.body.stream_key;
    roomId = String(room.body.id);
  });
  after(() => stack?.close());

  it('never logs a key that clients put in play URLs, paths, RTMP app or publish names', async () => {
    const base = `http://127.0.0.1:${stack.httpPort}`;
    const statuses: number[] = [];
    for (const path of [
      `/live/${key}.flv?token=x`, `/live/${key}.flv`, `/live/${key}/index.m3u8?token=x`, `/live/${key}/seg-1.ts?token=x`,
      `/live/${key}`, `/live/${key}.flv/more`, `/live/${key}/index.m3u8`,
    ]) {
      const res = await fetch(base + path);
      await res.arrayBuffer();
      statuses.push(res.status);
    }
    assert.ok(statuses.every((s) => s >= 400), `every request refused: ${statuses}`);
    const head = await fetch(`${base}/live/${key}.flv?token=x`, { method: 'HEAD' });
    assert.equal(head.status, 403);
    await new Promise<void>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${stack.httpPort}/live/${key}.flv?token=x`);
      ws.on('unexpected-response', (_req, res) => {
        res.resume();
        resolve();
      });
      ws.on('error', () => resolve());
    });
    for (const name of [`${key}?token=x`, key]) {
      const c = await RtmpClient.open('127.0.0.1', stack.rtmpPort);
      await c.connect('live');
      const status = c.nextStatus();
      c.play(name);
      assert.equal((await status).level, 'error');
      c.close();
    }
    // The key as the RTMP app, then a real publish with the key, stopped by the client.
    const wrongApp = await RtmpClient.open('127.0.0.1', stack.rtmpPort);
    await wrongApp.connect(key);
    const refused = wrongApp.nextStatus();
    wrongApp.publish(key);
    assert.equal((await refused).level, 'error');
    wrongApp.close();
    const pub = await RtmpClient.open('127.0.0.1', stack.rtmpPort);
    await pub.connect('live');
    const allowed = pub.nextStatus();
    pub.publish(key);
    assert.equal((await allowed).code, 'NetStream.Publish.Start');
    pub.sendMedia(9, 0, Buffer.from('17000000000142c00dffe100166742c00dda0507ec0440000003004000000c83c50aa801000468ce0fc8', 'hex'));
    await until('live', async () => (await stack.call('GET', `/rooms/${roomId}`)).body.is_live === true, 10_000);
    pub.close();
    await new Promise((r) => setTimeout(r, 300));

    assert.match(logs, /play refused/, 'the refusals were logged');
    const leaks = logs.split('\n').filter((l) => l.includes(key) || l.includes(key.slice(3)));
    assert.deepEqual(leaks, [], 'no log line holds the key');
  });
});
