import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { missingTool } from '../../../core/testing/tools.js';
import {
  startEngine, ffmpegPublish, waitForEvent, killHard, testConfig, httpGet, readSome, until, sleep, type EngineHarness, ffmpegDecode } from '../../engine-test-kit.js';
import { FlvParser } from '../../protocols/flv/flv-parser.js';
import { isSequenceHeader } from '../../protocols/flv/flv-tag.js';
import { RtmpClient } from '../rtmp/client.js';

const noFfmpeg = missingTool('ffmpeg');

/** An RTMP publisher of stream key X (room1), publishing, no media sent yet. */
async function openPublisher(h: EngineHarness): Promise<RtmpClient> {
  const pub = await RtmpClient.open('127.0.0.1', h.rtmpPort);
  await pub.connect('live');
  pub.publish('X');
  await pub.nextStatus();
  return pub;
}

describe('HTTP-FLV with an ffmpeg publisher', { skip: noFfmpeg }, () => {
  let h: EngineHarness;
  let ff: ChildProcess;
  before(async () => {
    h = await startEngine();
    ff = ffmpegPublish(`rtmp://127.0.0.1:${h.rtmpPort}/live/X`, { seconds: 60 });
    await waitForEvent(h, 'publish.started');
  });
  after(async () => {
    killHard(ff);
    await h.close();
  });

  it('answers 401 without a token, 403 with a forged one, 404 for a stream that is not live', async () => {
    for (const [path, status] of [
      ['/live/room1.flv', 401],
      ['/live/room1.flv?token=forged', 403],
      ['/live/nosuch.flv?token=good', 404],
      ['/live/nosuch.flv', 401], // names do not leak without a token
    ] as const) {
      const res = await httpGet(h.httpPort, path);
      const body = await readSome(res, 1 << 20, 2000);
      assert.equal(res.statusCode, status, path);
      assert.equal(res.headers['content-type'], 'application/json');
      assert.ok(!body.includes(Buffer.from('FLV')));
    }
  });

  it('answers HEAD with the FLV headers and no body', async () => {
    const res = await httpGet(h.httpPort, '/live/room1.flv?token=good', 'HEAD');
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'video/x-flv');
    assert.equal(res.headers['access-control-allow-origin'], '*');
    assert.match(String(res.headers['cache-control']), /no-cache/);
    res.destroy();
  });

  it('sends the FLV header, metadata, sequence headers, then the GOP from a keyframe, at once', async () => {
    const t0 = performance.now();
    const res = await httpGet(h.httpPort, '/live/room1.flv?token=good');
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['transfer-encoding'], undefined, 'raw body, not chunked');
    const parser = new FlvParser();
    const tags: { type: number; seq: boolean; key: boolean }[] = [];
    let ttff = 0;
    await new Promise<void>((resolve) => {
      res.on('data', (d: Buffer) => {
        for (const t of parser.push(d)) {
          const key = t.type === 9 && (t.body[0]! >> 4) === 1 && !isSequenceHeader(9, t.body);
          if (key && !ttff) ttff = performance.now() - t0;
          tags.push({ type: t.type, seq: isSequenceHeader(t.type, t.body), key });
        }
        if (tags.length > 40) {
          res.destroy();
          resolve();
        }
      });
    });
    assert.deepEqual(parser.header, { version: 1, hasAudio: true, hasVideo: true });
    assert.deepEqual(tags.slice(0, 3).map((t) => [t.type, t.seq]), [[18, false], [9, true], [8, true]]);
    const firstVideo = tags.slice(3).find((t) => t.type === 9)!;
    assert.equal(firstVideo.key, true, 'first video frame is a keyframe (GOP cache)');
    assert.ok(ttff > 0);
    console.log(`# HTTP-FLV time to first keyframe: ${ttff.toFixed(1)} ms`);
  });

  it('ffmpeg decodes 2 s of the HTTP-FLV stream without an error', async () => {
    const res = await ffmpegDecode(`http://127.0.0.1:${h.httpPort}/live/room1.flv?token=good`);
    assert.equal(res.code, 0, res.err);
    assert.equal(res.err.trim(), '');
  });

  it('ffprobe reads HTTP-FLV: H.264 640x360 and AAC', { skip: missingTool('ffprobe') }, async () => {
    const out = await new Promise<string>((resolve) => {
      const c = spawn('ffprobe', ['-v', 'error', '-show_streams', '-of', 'compact', `http://127.0.0.1:${h.httpPort}/live/room1.flv?token=good`]);
      let s = '';
      c.stdout.on('data', (d) => (s += d));
      const t = setTimeout(() => c.kill('SIGKILL'), 20_000);
      c.on('exit', () => {
        clearTimeout(t);
        resolve(s);
      });
    });
    assert.match(out, /codec_name=h264\|.*width=640\|height=360/);
    assert.match(out, /codec_name=aac\|.*sample_rate=44100/);
  });

  it('reports play.started and play.ended with bytes and duration', async () => {
    h.events.length = 0;
    const res = await httpGet(h.httpPort, '/live/room1.flv?token=good');
    await readSome(res, 50_000, 5000);
    const ended = await waitForEvent(h, 'play.ended', (e) => e.protocol === 'http-flv', 3000);
    const started = h.events.find((e) => e.name === 'play.started')!.payload as { viewerId: string };
    assert.equal(ended.viewerId, started.viewerId);
    assert.equal(ended.reason, 'closed');
    assert.ok(ended.bytesOut >= 50_000);
    assert.ok(ended.durationMs >= 0);
  });

  it('kickViewer drops an HTTP-FLV viewer', async () => {
    h.events.length = 0;
    const res = await httpGet(h.httpPort, '/live/room1.flv?token=good');
    const started = await waitForEvent(h, 'play.started');
    const closed = new Promise((r) => res.once('close', r));
    res.resume();
    assert.equal(await h.engine.kickViewer(started.viewerId), true);
    await closed;
    const ended = await waitForEvent(h, 'play.ended', () => true, 1000);
    assert.equal(ended.reason, 'kicked');
    assert.equal(await h.engine.kickViewer('nobody'), false);
  });

  it('ends viewers when the publisher goes away', async () => {
    const res = await httpGet(h.httpPort, '/live/room1.flv?token=good');
    res.resume();
    const ended = new Promise((r) => res.once('close', r));
    killHard(ff);
    await ended;
    const e = await waitForEvent(h, 'play.ended', (p) => p.reason === 'stream-ended', 2000);
    assert.equal(e.protocol, 'http-flv');
  });
});

describe('HTTP-FLV backpressure', () => {
  let h: EngineHarness;
  before(async () => {
    h = await startEngine({ config: testConfig({ viewerQueueBytes: 256 * 1024, viewerQueueTime: 1000 }) });
  });
  after(() => h.close());

  it('evicts a viewer that stops reading while a healthy viewer keeps receiving; memory stays bounded', async () => {
    const pub = await RtmpClient.open('127.0.0.1', h.rtmpPort);
    await pub.connect('live');
    pub.setChunkSize(60_000);
    pub.publish('X');
    await pub.nextStatus();
    pub.sendMedia(9, 0, Buffer.from([0x17, 0, 0, 0, 0, 1, 0x42, 0, 0x1e, 0xff]));
    let ts = 0;
    let frame = 0;
    const frameBody = (key: boolean) => {
      const b = Buffer.alloc(50_000, 0x33);
      b[0] = key ? 0x17 : 0x27;
      b[1] = 1;
      return b;
    };
    const pump = setInterval(() => {
      for (let i = 0; i < 2; i++) pub.sendMedia(9, (ts += 33), frameBody(frame++ % 15 === 0));
    }, 10);

    // the slow viewer: requests, then never reads
    const slow = connect(h.httpPort, '127.0.0.1');
    slow.on('error', () => {});
    slow.write('GET /live/room1.flv?token=good HTTP/1.1\r\nHost: x\r\n\r\n');
    slow.pause();
    // the healthy viewer reads everything
    const healthy = await httpGet(h.httpPort, '/live/room1.flv?token=good');
    let healthyBytes = 0;
    healthy.on('data', (d: Buffer) => (healthyBytes += d.length));

    const base = process.memoryUsage().arrayBuffers;
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().arrayBuffers - base)), 50);
    try {
      const slowEnded = await waitForEvent(h, 'play.ended', (e) => e.reason === 'slow', 20_000);
      assert.equal(slowEnded.protocol, 'http-flv');
      const before = healthyBytes;
      await sleep(1000);
      assert.ok(healthyBytes - before > 500_000, `healthy viewer kept receiving (${healthyBytes - before} bytes in 1 s)`);
      assert.equal(h.events.filter((e) => e.name === 'play.ended').length, 1, 'only the slow viewer ended');
      const text = await h.metrics.metrics();
      assert.match(text, /onair_media_viewer_evictions_total 1/);
      assert.ok(peak < 48 * 1024 * 1024, `buffer memory grew by ${Math.round(peak / 1048576)} MB`);
      console.log(`# published ${Math.round(h.engine.streams.get('room1')!.bytesIn / 1048576)} MB; peak buffer growth ${Math.round(peak / 1048576)} MB`);
    } finally {
      clearInterval(pump);
      clearInterval(sampler);
      slow.destroy();
      healthy.destroy();
      pub.close();
    }
  });
});

describe('HTTP-FLV write coalescing in a small room', () => {
  let h: EngineHarness;
  // A 10 s ceiling: with writes on a fixed tick, a live frame would wait up to 10 s for it.
  before(async () => {
    h = await startEngine({ tuning: { flushIntervalMs: 10_000 } });
  });
  after(() => h.close());

  it('writes each live frame to a lone viewer as it arrives, not at the flush interval (the ceiling)', async () => {
    const pub = await openPublisher(h);
    pub.sendMedia(9, 0, Buffer.from([0x17, 0, 0, 0, 0, 1, 0x42, 0, 0x1e, 0xff]));
    const frameBody = (key: boolean, mark: number) => {
      const b = Buffer.alloc(2000, 0x33);
      b[0] = key ? 0x17 : 0x27;
      b[1] = 1;
      b.writeUInt32BE(mark, 8);
      return b;
    };
    pub.sendMedia(9, 0, frameBody(true, 0));
    const viewer = await httpGet(h.httpPort, '/live/room1.flv?token=good');
    const parser = new FlvParser();
    const arrived = new Map<number, number>();
    viewer.on('data', (d: Buffer) => {
      for (const t of parser.push(d)) if (t.type === 9 && t.body.length === 2000) arrived.set(t.body.readUInt32BE(8), performance.now());
    });
    try {
      assert.ok(await until(() => arrived.has(0), 5000), 'the start-up burst (the cached keyframe)');
      const sentAt = new Map<number, number>();
      for (let mark = 1; mark <= 5; mark++) {
        sentAt.set(mark, performance.now());
        pub.sendMedia(9, mark * 33, frameBody(false, mark));
        await until(() => arrived.has(mark), 5000, 5);
      }
      for (let mark = 1; mark <= 5; mark++) {
        assert.ok(arrived.has(mark), `live frame ${mark} arrived`);
        // Generous bound for a loaded machine; a fixed tick would hold each frame up to 10 s.
        assert.ok(arrived.get(mark)! - sentAt.get(mark)! < 2500, `frame ${mark} took ${Math.round(arrived.get(mark)! - sentAt.get(mark)!)} ms`);
      }
    } finally {
      viewer.destroy();
      pub.close();
    }
  });
});

describe('HTTP-FLV head and start-up burst', () => {
  let h: EngineHarness;
  before(async () => {
    h = await startEngine();
  });
  after(() => h.close());

  it('hands the 200 head and the start-up burst of a live stream with a cached GOP to the socket in one corked write', async () => {
    const pub = await openPublisher(h);
    pub.sendMedia(9, 0, Buffer.from([0x17, 0, 0, 0, 0, 1, 0x42, 0, 0x1e, 0xff]));
    const key = Buffer.alloc(3000, 0x33);
    key[0] = 0x17;
    key[1] = 1;
    pub.sendMedia(9, 0, key);
    assert.ok(await until(() => h.engine.streams.get('room1')?.ready === true, 5000), 'the stream is live');
    // The server side of the viewer's connection: what is written to it, and when its cork is released.
    const log: Array<{ what: 'head' | 'flv' | 'keyframe' | 'other' | 'released'; corked: number }> = [];
    h.http.once('connection', (socket: Socket) => {
      const write = socket.write;
      const uncork = socket.uncork;
      socket.write = function (this: Socket, chunk: unknown, ...rest: unknown[]) {
        const head = Buffer.isBuffer(chunk) ? chunk.subarray(0, 16).toString('latin1') : String(chunk).slice(0, 16);
        const what = head.startsWith('HTTP/1.1 200') ? 'head' : head.startsWith('FLV') ? 'flv'
          : Buffer.isBuffer(chunk) && chunk.includes(key.subarray(0, 64)) ? 'keyframe' : 'other';
        log.push({ what, corked: socket.writableCorked });
        return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
      } as Socket['write'];
      socket.uncork = function (this: Socket) {
        uncork.call(this);
        if (socket.writableCorked === 0) log.push({ what: 'released', corked: 0 });
      };
    });
    // A raw client: the bytes as TCP delivers them, first read first.
    const client = connect(h.httpPort, '127.0.0.1');
    const reads: Buffer[] = [];
    client.on('data', (d: Buffer) => reads.push(d));
    client.write('GET /live/room1.flv?token=good HTTP/1.1\r\nHost: x\r\n\r\n');
    try {
      assert.ok(await until(() => Buffer.concat(reads).includes(key.subarray(0, 64)), 5000), 'the burst arrives');
      const head = log.findIndex((e) => e.what === 'head');
      const released = log.findIndex((e, i) => i > head && e.what === 'released');
      assert.ok(head >= 0, `the head is written (${JSON.stringify(log)})`);
      assert.ok(log[head]!.corked > 0, `the head waits in the cork (${JSON.stringify(log)})`);
      const before = log.slice(head, released < 0 ? undefined : released).map((e) => e.what);
      // The FLV header and the keyframe go in the same corked batch (the keyframe may share a buffer with the header).
      assert.ok(before.includes('flv'), `the FLV header joins the head (${JSON.stringify(log)})`);
      assert.ok(before.includes('keyframe') || before.includes('other'), `the cached GOP joins the head (${JSON.stringify(log)})`);
      // The client's first read holds the head and the first FLV bytes (they left in one writev).
      const first = reads[0]!.toString('latin1');
      assert.match(first, /^HTTP\/1\.1 200 /);
      assert.ok(first.includes('\r\n\r\nFLV\x01'), 'the first read holds the FLV header after the head');
      assert.match(first, /Access-Control-Allow-Origin: \*/i);
      assert.match(first, /Content-Type: video\/x-flv/i);
    } finally {
      client.destroy();
      pub.close();
    }
  });

  it('sends the 200 head and the FLV header to a viewer waiting for a first keyframe, without waiting for it', async () => {
    const pub = await openPublisher(h);
    // Published, no media yet: nothing to send but the FLV header.
    const client = connect(h.httpPort, '127.0.0.1');
    const reads: Buffer[] = [];
    client.on('data', (d: Buffer) => reads.push(d));
    client.write('GET /live/room1.flv?token=good HTTP/1.1\r\nHost: x\r\n\r\n');
    try {
      assert.ok(await until(() => Buffer.concat(reads).includes('\r\n\r\nFLV\x01'), 5000), 'the head and the FLV header arrive with no media published');
      assert.match(Buffer.concat(reads).toString('latin1'), /^HTTP\/1\.1 200 /);
    } finally {
      client.destroy();
      pub.close();
    }
  });
});
