/**
 * A publish is reported started (publish.started: control marks the session live) only once media
 * flows, and a publisher that sends no audio or video within media.firstMediaTimeout is dropped.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { missingTool } from '../../../core/testing/tools.js';
import { startEngine, testConfig, ffmpegPublish, waitForEvent, killHard, sleep, type EngineHarness } from '../../engine-test-kit.js';
import { encodeAmf0, AmfEcmaArray } from '../../protocols/rtmp/amf0.js';
import { RtmpClient } from './client.js';

const metadata = () => encodeAmf0('@setDataFrame', 'onMetaData', new AmfEcmaArray({ width: 320, height: 240, videocodecid: 7 }));
const avcHeader = Buffer.from('17000000000142c00dffe100166742c00dda0507ec0440000003004000000c83c50aa801000468ce0fc8', 'hex');

describe('publish.started only once media flows', () => {
  let h: EngineHarness;
  before(async () => {
    h = await startEngine({ config: testConfig({ firstMediaTimeout: 1500, idleTimeout: 10_000 }) });
  });
  after(() => h.close());

  it('never reports an ffmpeg publish of HEVC (which FLV cannot carry) as started', { skip: missingTool('ffmpeg') }, async () => {
    h.events.length = 0;
    const ff = ffmpegPublish(`rtmp://127.0.0.1:${h.rtmpPort}/live/X`, { seconds: 5, extra: ['-c:v', 'libx265'] });
    try {
      const ended = await waitForEvent(h, 'publish.ended', () => true, 20_000);
      assert.equal(ended.bytesIn, 0, 'ffmpeg gave up before any media');
      await sleep(200);
      assert.deepEqual(h.events.filter((e) => e.name === 'publish.started'), []);
    } finally {
      killHard(ff);
    }
  });

  it('drops a publisher that sends metadata but no audio or video, without a publish.started', async () => {
    h.events.length = 0;
    const c = await RtmpClient.open('127.0.0.1', h.rtmpPort);
    await c.connect('live');
    c.publish('X');
    assert.equal((await c.nextStatus()).code, 'NetStream.Publish.Start');
    c.sendMedia(18, 0, metadata());
    const t0 = Date.now();
    const ended = await waitForEvent(h, 'publish.ended', () => true, 5000);
    const after = Date.now() - t0;
    assert.equal(ended.reason, 'idle');
    assert.ok(after > 1000 && after < 3000, `dropped after ${after} ms (deadline 1500 ms)`);
    assert.deepEqual(h.events.filter((e) => e.name === 'publish.started'), []);
    c.close();
  });

  it('reports the publish started when its first media arrives, not before', async () => {
    h.events.length = 0;
    const c = await RtmpClient.open('127.0.0.1', h.rtmpPort);
    await c.connect('live');
    c.publish('X');
    await c.nextStatus();
    c.sendMedia(18, 0, metadata());
    await sleep(1000);
    assert.deepEqual(h.events.filter((e) => e.name === 'publish.started'), [], 'metadata alone is not media');
    c.sendMedia(9, 0, avcHeader);
    const started = await waitForEvent(h, 'publish.started', () => true, 1000);
    assert.deepEqual(started.video, { codec: 'H264', width: 320, height: 240, fps: 0 });
    const keep = setInterval(() => {
      const f = Buffer.alloc(200, 1);
      f[0] = 0x27;
      f[1] = 1;
      c.sendMedia(9, 33, f);
    }, 100);
    await sleep(2000);
    clearInterval(keep);
    assert.equal(h.events.filter((e) => e.name === 'publish.ended').length, 0, 'a publisher sending media is kept');
    c.close();
    await waitForEvent(h, 'publish.ended', () => true, 3000);
  });
});
