import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { missingTool } from '../../../core/testing/tools.js';
import {
  startEngine, ffmpegPublish, waitForEvent, killHard, testHooks, testConfig, until, sleep, httpGet, type EngineHarness, ffmpegDecode } from '../../engine-test-kit.js';
import { RtmpClient } from './client.js';
import { encodeAmf0 } from '../../protocols/rtmp/amf0.js';
import { serializeMessage } from '../../protocols/rtmp/chunk-writer.js';
import { commandMsg } from '../../protocols/rtmp/messages.js';
import { buildClientHello, verifyServerS1, verifyServerS2, HANDSHAKE_SIZE } from '../../protocols/rtmp/handshake.js';

const noFfmpeg = missingTool('ffmpeg');
const exited = (child: ChildProcess, timeoutMs: number) =>
  new Promise<boolean>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(true);
    const t = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(t);
      resolve(true);
    });
  });

function probe(url: string): Promise<string> {
  return new Promise((resolve) => {
    const c = spawn('ffprobe', ['-v', 'error', '-show_streams', '-of', 'compact', url], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    const t = setTimeout(() => c.kill('SIGKILL'), 20_000);
    c.on('exit', () => {
      clearTimeout(t);
      resolve(out);
    });
  });
}

/** A fake H.264 stream: sequence header, then keyframes/delta frames of `size` bytes. */
const avcHeader = Buffer.from([0x17, 0, 0, 0, 0, 1, 0x42, 0, 0x1e, 0xff, 0xe0]);
const videoFrame = (key: boolean, size = 100) => {
  const b = Buffer.alloc(size, 0x55);
  b[0] = key ? 0x17 : 0x27;
  b[1] = 1;
  return b;
};

describe('RTMP server with ffmpeg', { skip: noFfmpeg }, () => {
  let h: EngineHarness;
  let ff: ChildProcess | undefined;
  before(async () => {
    h = await startEngine();
  });
  after(async () => {
    killHard(ff);
    await h.close();
  });

  it('takes an ffmpeg publish and reports codecs in publish.started', async () => {
    ff = ffmpegPublish(`rtmp://127.0.0.1:${h.rtmpPort}/live/X?txSecret=abc`, { seconds: 60 });
    const started = await waitForEvent(h, 'publish.started');
    assert.equal(started.streamName, 'room1');
    assert.equal(started.sessionId, 's1');
    assert.deepEqual(started.video, { codec: 'H264', width: 640, height: 360, fps: 30 });
    assert.deepEqual(started.audio, { codec: 'AAC', sampleRate: 44100, channels: 1 });
  });

  it('passed the key, app, publish query and client address to the hook', () => {
    const hooks = (h.engine as unknown as { opts: { hooks: ReturnType<typeof testHooks> } }).opts.hooks;
    assert.deepEqual(hooks.publishes[0], { app: 'live', streamKey: 'X', query: { txSecret: 'abc' }, clientIp: '127.0.0.1' });
  });

  it('ffmpeg decodes 2 s of the RTMP stream without an error', async () => {
    const res = await ffmpegDecode(`rtmp://127.0.0.1:${h.rtmpPort}/live/room1?token=good`);
    assert.equal(res.code, 0, res.err);
    assert.equal(res.err.trim(), '');
  });

  it('ffprobe reads the RTMP play stream: H.264 640x360 and AAC', { skip: missingTool('ffprobe') }, async () => {
    const out = await probe(`rtmp://127.0.0.1:${h.rtmpPort}/live/room1?token=good`);
    assert.match(out, /codec_name=h264\|.*width=640\|height=360/);
    assert.match(out, /codec_name=aac\|.*sample_rate=44100/);
  });

  it('rtmpdump plays the stream as FLV', { skip: missingTool('rtmpdump', '-h') }, async () => {
    const c = spawn('rtmpdump', ['-q', '-v', '-r', `rtmp://127.0.0.1:${h.rtmpPort}/live/room1?token=good`, '-o', '-', '-B', '3'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let n = 0;
    let head: Buffer | undefined;
    c.stdout.on('data', (d: Buffer) => {
      head ??= d;
      n += d.length;
      if (n > 100_000) c.kill('SIGKILL');
    });
    const done = await exited(c, 15_000);
    killHard(c);
    assert.ok(done, 'rtmpdump got 100 kB in time');
    assert.equal(head!.toString('latin1', 0, 3), 'FLV');
    assert.ok(n > 100_000);
  });

  it('refuses RTMP play without a token or with a forged one, before any media', async () => {
    for (const name of ['room1', 'room1?token=forged']) {
      const c = await RtmpClient.open('127.0.0.1', h.rtmpPort);
      let media = 0;
      c.on('message', (m) => void (m.typeId === 8 || m.typeId === 9 ? media++ : 0));
      await c.connect('live');
      const status = c.nextStatus();
      c.play(name);
      assert.equal((await status).level, 'error');
      assert.ok(await until(() => c.socket.destroyed || c.socket.readableEnded, 3000), 'server closed the play connection');
      assert.equal(media, 0);
      c.close();
    }
  });

  it('reports publish.ended within 1 s of kill -9 of the publisher', async () => {
    const kill = Date.now();
    ff!.kill('SIGKILL');
    const ended = await waitForEvent(h, 'publish.ended', (e) => e.streamName === 'room1', 3000);
    assert.ok(ended.at - kill < 1000, `publish.ended after ${ended.at - kill} ms`);
    assert.equal(ended.reason, 'closed');
    assert.ok(ended.bytesIn > 10_000);
  });

  it('kickPublisher drops ffmpeg at once', async () => {
    h.events.length = 0;
    ff = ffmpegPublish(`rtmp://127.0.0.1:${h.rtmpPort}/live/X`, { seconds: 60 });
    await waitForEvent(h, 'publish.started');
    const t0 = Date.now();
    assert.equal(await h.engine.kickPublisher('room1'), true);
    const ended = await waitForEvent(h, 'publish.ended', () => true, 1000);
    assert.equal(ended.reason, 'kicked');
    assert.ok(Date.now() - t0 < 1000);
    assert.ok(await exited(ff, 5000), 'ffmpeg exits once its connection is dropped');
    assert.equal(h.engine.streams.get('room1'), undefined);
    assert.equal(await h.engine.kickPublisher('room1'), false);
  });
});

describe('RTMP publish authorization', () => {
  let h: EngineHarness;
  let hooks: ReturnType<typeof testHooks>;
  before(async () => {
    hooks = testHooks({ delayMs: 300 });
    h = await startEngine({ hooks });
  });
  after(() => h.close());

  it('reads no media before the hook answers, then delivers what was held', async () => {
    const c = await RtmpClient.open('127.0.0.1', h.rtmpPort);
    await c.connect('live');
    const publishes: string[] = [];
    h.engine.streams.on('publish', (s) => publishes.push(s.name));
    // publish and media in one write: the media must wait for the decision
    c.socket.cork();
    c.publish('X');
    c.sendMedia(9, 0, avcHeader);
    c.sendMedia(9, 0, videoFrame(true));
    c.socket.uncork();
    await sleep(150);
    assert.deepEqual(publishes, [], 'nothing registered while the hook is thinking');
    const status = await c.nextStatus();
    assert.equal(status.code, 'NetStream.Publish.Start');
    assert.ok(await until(() => (h.engine.streams.get('room1')?.bytesIn ?? 0) > 0, 2000), 'held media delivered after allow');
    c.close();
    await waitForEvent(h, 'publish.ended');
  });

  it('refuses a wrong key: onStatus error, connection closed, nothing registered or emitted', async () => {
    h.events.length = 0;
    const registered: string[] = [];
    h.engine.streams.on('publish', (s) => registered.push(s.name));
    const c = await RtmpClient.open('127.0.0.1', h.rtmpPort);
    await c.connect('live');
    c.socket.cork();
    c.publish('wrong-key');
    for (let i = 0; i < 50; i++) c.sendMedia(9, i * 33, videoFrame(i === 0, 1000));
    c.socket.uncork();
    const status = await c.nextStatus();
    assert.equal(status.level, 'error');
    assert.match(String(status.code), /NetStream\.Publish\.(BadName|Unauthorized)/);
    assert.ok(await until(() => c.socket.destroyed || c.socket.readableEnded, 3000));
    c.close();
    await sleep(100);
    assert.deepEqual(registered, []);
    assert.equal(h.events.filter((e) => e.name.startsWith('publish')).length, 0);
    const viewer = await httpGet(h.httpPort, '/live/room1.flv?token=good');
    assert.equal(viewer.statusCode, 404, 'no viewer gets a byte of a refused publish');
    viewer.resume();
    assert.equal(hooks.publishes.at(-1)!.streamKey, 'wrong-key');
  });

  it('refuses when the hook does not answer in time', async () => {
    const slow = await startEngine({ hooks: testHooks({ hang: true }), config: testConfig({ hookTimeout: 300 }) });
    try {
      const c = await RtmpClient.open('127.0.0.1', slow.rtmpPort);
      await c.connect('live');
      const t0 = Date.now();
      c.publish('X');
      const status = await c.nextStatus();
      assert.equal(status.code, 'NetStream.Publish.Unauthorized');
      assert.ok(Date.now() - t0 >= 300);
      c.close();
      assert.equal(slow.engine.streams.size, 0);
    } finally {
      await slow.close();
    }
  });
});

describe('RTMP robustness', () => {
  let h: EngineHarness;
  before(async () => {
    h = await startEngine({ config: testConfig({ idleTimeout: 800 }), tuning: { handshakeTimeoutMs: 300 } });
  });
  after(() => h.close());

  const stillServes = async () => {
    const c = await RtmpClient.open('127.0.0.1', h.rtmpPort);
    const res = await c.connect('live');
    c.close();
    return (res.args[0] as { code?: string }).code;
  };

  it('answers connect without tcUrl (NMS killer 1)', async () => {
    const c = await RtmpClient.open('127.0.0.1', h.rtmpPort);
    const res = await c.connect('live');
    assert.equal((res.args[0] as { code: string }).code, 'NetConnection.Connect.Success');
    c.close();
  });

  it('closes only the offending connection on an unknown AMF0 marker (NMS killer 2)', async () => {
    const c = await RtmpClient.open('127.0.0.1', h.rtmpPort);
    const payload = Buffer.concat([encodeAmf0('connect', 1), Buffer.from([0x11, 0x22])]);
    c.send({ csid: 3, typeId: 20, streamId: 0, timestamp: 0, payload });
    assert.ok(await until(() => c.socket.destroyed || c.socket.readableEnded, 2000));
    c.close();
    assert.equal(await stillServes(), 'NetConnection.Connect.Success');
  });

  it('after connect, ignores a command with an unknown AMF0 marker and keeps the connection', async () => {
    const c = await RtmpClient.open('127.0.0.1', h.rtmpPort);
    await c.connect('live');
    c.send({ csid: 3, typeId: 20, streamId: 0, timestamp: 0, payload: Buffer.concat([encodeAmf0('FCPublish', 3, null), Buffer.from([0x11])]) });
    c.publish('X');
    assert.equal((await c.nextStatus()).code, 'NetStream.Publish.Start');
    c.close();
    await waitForEvent(h, 'publish.ended');
  });

  it('closes only the offending connection on a numeric publish name (NMS killer 3)', async () => {
    const c = await RtmpClient.open('127.0.0.1', h.rtmpPort);
    await c.connect('live');
    c.send(commandMsg(1, 'publish', 0, null, 12345, 'live'));
    assert.ok(await until(() => c.socket.destroyed || c.socket.readableEnded, 2000));
    c.close();
    assert.equal(await stillServes(), 'NetConnection.Connect.Success');
  });

  it('drops a half-open handshake after the handshake timeout', async () => {
    const s = connect(h.rtmpPort, '127.0.0.1');
    s.on('error', () => {});
    s.write(Buffer.from([3, 1, 2, 3]));
    const t0 = Date.now();
    await new Promise((r) => s.once('close', r));
    assert.ok(Date.now() - t0 < 1500);
  });

  it('drops an idle publisher (no media) with reason idle', async () => {
    h.events.length = 0;
    const c = await RtmpClient.open('127.0.0.1', h.rtmpPort);
    await c.connect('live');
    c.publish('X');
    await c.nextStatus();
    const ended = await waitForEvent(h, 'publish.ended', () => true, 3000);
    assert.equal(ended.reason, 'idle');
    c.close();
  });

  it('answers FCUnpublish + deleteStream with NetStream.Unpublish.Success and leaves the close to the client', async () => {
    h.events.length = 0;
    const c = await RtmpClient.open('127.0.0.1', h.rtmpPort);
    await c.connect('live');
    c.publish('X');
    await c.nextStatus();
    c.sendMedia(9, 0, avcHeader);
    c.sendMedia(9, 0, videoFrame(true));
    const status = c.nextStatus();
    c.send(commandMsg(0, 'FCUnpublish', 5, null, 'X'));
    c.send(commandMsg(0, 'deleteStream', 6, null, c.streamId));
    assert.equal((await status).code, 'NetStream.Unpublish.Success');
    const ended = await waitForEvent(h, 'publish.ended', () => true, 1000);
    assert.equal(ended.reason, 'unpublished');
    await sleep(300);
    assert.equal(c.socket.destroyed || c.socket.readableEnded, false, 'the server did not close first');
    c.close();
  });

  it('closes a connection that ended its publish with FCUnpublish and then only pings: it holds no slot for ever', async () => {
    // Before, publish + FCUnpublish + a ping now and then kept an active (never displaced) RTMP slot
    // for as long as the client liked: one anchor's key repeated filled the server's connection cap.
    const c = await RtmpClient.open('127.0.0.1', h.rtmpPort);
    await c.connect('live');
    c.publish('X');
    await c.nextStatus();
    c.sendMedia(9, 0, avcHeader);
    c.sendMedia(9, 0, videoFrame(true));
    c.send(commandMsg(0, 'FCUnpublish', 5, null, 'X'));
    await waitForEvent(h, 'publish.ended', () => true, 1000);
    const t0 = Date.now();
    let closed = false;
    c.socket.once('close', () => (closed = true));
    const ping = { csid: 2, typeId: 4, streamId: 0, timestamp: 0, payload: Buffer.from([0, 6, 0, 0, 0, 1]) };
    while (!closed && Date.now() - t0 < 9000) {
      if (!c.socket.destroyed) c.send(ping);
      await sleep(500);
    }
    c.close();
    assert.ok(closed, 'still open 9 s after FCUnpublish');
    assert.ok(Date.now() - t0 < 7000, `closed ${Date.now() - t0} ms after FCUnpublish (grace 5 s)`);
  });

  it('answers a digest (Flash) handshake with valid S1 and S2 digests', async () => {
    const s = connect(h.rtmpPort, '127.0.0.1');
    const hello = buildClientHello(true, 1);
    s.write(hello);
    const chunks: Buffer[] = [];
    s.on('data', (d) => chunks.push(d));
    await until(() => chunks.reduce((a, b) => a + b.length, 0) >= 1 + 2 * HANDSHAKE_SIZE, 2000);
    const reply = Buffer.concat(chunks);
    s.destroy();
    assert.ok(verifyServerS1(reply.subarray(1, 1 + HANDSHAKE_SIZE), 1));
    assert.ok(verifyServerS2(reply.subarray(1 + HANDSHAKE_SIZE, 1 + 2 * HANDSHAKE_SIZE), hello.subarray(1), 1));
  });

  it('survives a burst of random chunk bytes after a valid handshake', async () => {
    for (let i = 0; i < 30; i++) {
      const c = await RtmpClient.open('127.0.0.1', h.rtmpPort);
      c.on('error', () => {});
      const junk = Buffer.alloc(2000);
      for (let j = 0; j < junk.length; j++) junk[j] = (j * 131 + i * 17) & 0xff;
      c.writeRaw(junk);
      c.writeRaw(serializeMessage({ csid: 3, typeId: 20, streamId: 0, timestamp: 0, payload: Buffer.from([0x02, 0xff, 0xff]) }, 128));
      c.close();
    }
    assert.equal(await stillServes(), 'NetConnection.Connect.Success');
  });
});

describe('RTMP viewer backpressure', () => {
  let h: EngineHarness;
  before(async () => {
    h = await startEngine({ config: testConfig({ viewerQueueBytes: 256 * 1024, viewerQueueTime: 1000 }) });
  });
  after(() => h.close());

  it('evicts an RTMP player that stops reading while another keeps receiving', async () => {
    const pub = await RtmpClient.open('127.0.0.1', h.rtmpPort);
    await pub.connect('live');
    pub.setChunkSize(60_000);
    pub.publish('X');
    await pub.nextStatus();
    pub.sendMedia(9, 0, avcHeader);
    let ts = 0;
    let n = 0;
    const pump = setInterval(() => {
      for (let i = 0; i < 2; i++) pub.sendMedia(9, (ts += 33), videoFrame(n++ % 15 === 0, 50_000));
    }, 10);
    const players = await Promise.all([0, 1].map(() => RtmpClient.open('127.0.0.1', h.rtmpPort)));
    try {
      for (const p of players) {
        await p.connect('live');
        p.play('room1?token=good');
      }
      players[0]!.socket.pause(); // stops reading
      const slow = await waitForEvent(h, 'play.ended', (e) => e.reason === 'slow', 20_000);
      assert.equal(slow.protocol, 'rtmp');
      const before = players[1]!.bytesReceived;
      await sleep(1000);
      assert.ok(players[1]!.bytesReceived - before > 500_000, 'the healthy player kept receiving');
      assert.equal(h.events.filter((e) => e.name === 'play.ended').length, 1);
    } finally {
      clearInterval(pump);
      for (const p of players) p.close();
      pub.close();
    }
  });
});
