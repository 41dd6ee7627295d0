import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MediaEngine } from './engine.js';
import type { MediaPlugin, MediaPluginContext, LiveStreamView } from './plugin.js';
import type { StreamReader } from './stream/stream-reader.js';
import type { MediaPacket } from './stream/media-packet.js';
import { RtmpClient } from './servers/rtmp/client.js';
import { startEngine, testConfig, testHooks, waitForEvent, httpGet, readSome, until, sleep, type EngineHarness } from './engine-test-kit.js';
import { silentLogger } from '../core/logging/logger.js';
import { encodeAmf0, AmfEcmaArray } from './protocols/rtmp/amf0.js';

/** A plugin like the recorder: attaches a reader to every stream and counts what it gets. */
class CountingPlugin implements MediaPlugin {
  readonly name = 'counting';
  packets = 0;
  firstTypes: number[] = [];
  published: string[] = [];
  unpublished: string[] = [];
  closed = 0;
  start(ctx: MediaPluginContext): void {
    ctx.streams.on('publish', (s: LiveStreamView) => {
      this.published.push(s.name);
      const reader: StreamReader = {
        id: `count-${s.publisherId}`,
        kind: 'internal',
        onPacket: (p: MediaPacket) => {
          this.packets++;
          if (this.firstTypes.length < 3) this.firstTypes.push(p.type);
        },
        onStreamEnd: () => {},
      };
      s.addReader(reader);
    });
    ctx.streams.on('unpublish', (s: LiveStreamView) => this.unpublished.push(s.name));
  }
  handleHttp(_req: IncomingMessage, res: ServerResponse, url: URL): boolean {
    if (url.pathname !== '/counting') return false;
    res.end(String(this.packets));
    return true;
  }
  async close(): Promise<void> {
    this.closed++;
  }
}

async function publishSynthetic(port: number, key = 'X') {
  const c = await RtmpClient.open('127.0.0.1', port);
  await c.connect('live');
  c.publish(key);
  const status = await c.nextStatus();
  c.sendMedia(18, 0, encodeAmf0('@setDataFrame', 'onMetaData', new AmfEcmaArray({ framerate: 30 })));
  c.sendMedia(8, 0, Buffer.from([0xaf, 0, 0x12, 0x10]));
  let ts = 0;
  const timer = setInterval(() => {
    ts += 33;
    c.sendMedia(9, ts, Buffer.from([ts % 330 === 33 ? 0x17 : 0x27, 1, 0, 0, 0, 9, 9, 9]));
    c.sendMedia(8, ts, Buffer.from([0xaf, 1, 5, 5]));
  }, 20);
  return { client: c, status, stop: () => { clearInterval(timer); c.close(); } };
}

describe(MediaEngine.name, () => {
  let h: EngineHarness;
  const plugin = new CountingPlugin();
  before(async () => {
    h = await startEngine({ plugins: [plugin], config: testConfig({ statsInterval: 300 }) });
  });
  after(() => h.close());

  it('emits publish.started, stream.stats as a heartbeat, and lists the stream', async () => {
    const pub = await publishSynthetic(h.rtmpPort);
    try {
      const started = await waitForEvent(h, 'publish.started');
      assert.equal(started.streamName, 'room1');
      assert.deepEqual(started.audio, { codec: 'AAC', sampleRate: 44100, channels: 2 });
      assert.equal(started.video?.codec, 'H264');
      const stats = await waitForEvent(h, 'stream.stats', (s) => s.videoFrames > 3);
      assert.equal(stats.streamName, 'room1');
      assert.ok(stats.bitrateInKbps >= 0 && stats.bytesIn > 0);
      assert.deepEqual(Object.keys(stats.viewers).sort(), ['hls', 'http-flv', 'rtmp', 'webrtc', 'ws-flv']);

      const res = await httpGet(h.httpPort, '/live/room1.flv?token=good');
      await until(() => h.engine.streams.get('room1')!.viewers['http-flv'] === 1, 2000);
      const [summary] = await h.engine.listStreams();
      assert.equal(summary!.streamName, 'room1');
      assert.equal(summary!.viewers['http-flv'], 1);
      assert.equal(summary!.sessionId, 's1');
      const text = await h.metrics.metrics();
      assert.match(text, /onair_media_streams 1/);
      assert.match(text, /onair_media_viewers\{protocol="http-flv"\} 1/);
      assert.match(text, /onair_media_stream_viewers\{stream="room1"\} 1/);
      await readSome(res, 100, 1000);
      // Live packets reach the viewer in write ticks (its start-up burst went out on its own).
      let flushText = '';
      for (let i = 0; i < 60 && !/onair_media_flush_ticks_total [1-9]/.test(flushText); i++) {
        await sleep(50);
        flushText = await h.metrics.metrics();
      }
      assert.match(flushText, /onair_media_flush_ticks_total [1-9]/);
      assert.match(flushText, /onair_media_flush_write_cost_seconds \d/);
    } finally {
      pub.stop();
    }
    const ended = await waitForEvent(h, 'publish.ended');
    assert.equal(ended.reason, 'closed');
    await sleep(50);
    const text = await h.metrics.metrics();
    assert.doesNotMatch(text, /stream="room1"/, 'per-stream labels dropped on unpublish');
    assert.match(text, /onair_media_auth_refusals_total\{kind="play"\} 0/);
  });

  it('lets plugins read streams (cache first) and serve HTTP', async () => {
    assert.deepEqual(plugin.published, ['room1']);
    assert.deepEqual(plugin.unpublished, ['room1']);
    assert.ok(plugin.packets > 5);
    const res = await httpGet(h.httpPort, '/counting');
    assert.equal((await readSome(res, 100, 1000)).toString(), String(plugin.packets));
  });

  it('a second publish of the same name replaces the first', async () => {
    h.events.length = 0;
    const a = await publishSynthetic(h.rtmpPort);
    await waitForEvent(h, 'publish.started');
    const b = await publishSynthetic(h.rtmpPort);
    try {
      const ended = await waitForEvent(h, 'publish.ended', (e) => e.reason === 'replaced', 2000);
      assert.equal(ended.streamName, 'room1');
      assert.ok(await until(() => a.client.socket.destroyed || a.client.socket.readableEnded, 2000));
      assert.equal(h.engine.streams.size, 1);
    } finally {
      a.stop();
      b.stop();
    }
    await waitForEvent(h, 'publish.ended', (e) => e.reason === 'closed');
  });

  it('counts refusals', async () => {
    const res = await httpGet(h.httpPort, '/live/room1.flv?token=nope');
    res.resume();
    assert.match(await h.metrics.metrics(), /onair_media_auth_refusals_total\{kind="play"\} 1/);
  });

  it('close() closes plugins and is idempotent', async () => {
    const e = new MediaEngine({ config: testConfig(), hooks: testHooks(), log: silentLogger(), plugins: [new CountingPlugin()] });
    await e.start();
    assert.ok(e.rtmpPort > 0);
    await e.close();
    await e.close();
  });
});
