import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../core/config/load.js';
import { silentLogger } from '../../../core/logging/logger.js';
import { missingTool } from '../../../core/testing/tools.js';
import { waitFor } from '../../../core/testing/wait-for.js';
import type { MediaEventName, MediaEvents, PlayRequest } from '../../../core/media/media-contract.js';
import type { MediaPacket } from '../../stream/media-packet.js';
import { FakeRegistry, FakeStream, ffprobe, makeTestFlv, readFlvPackets } from '../../../tests/e2e/media-fixtures.js';
import { HlsServer } from './server.js';
import { HlsSession } from './session.js';

const skip = missingTool('ffmpeg') || missingTool('ffprobe');


for (const segmenter of ['inprocess', 'ffmpeg'] as const)
describe(`HlsServer (${segmenter} segmenter)`, { skip }, () => {
  let dir: string;
  let packets: MediaPacket[];
  let server: Server;
  let base: string;
  let hls: HlsServer;
  let streams: FakeRegistry;
  let dataDir: string;
  const events: { name: MediaEventName; payload: MediaEvents[MediaEventName] }[] = [];
  const playRequests: PlayRequest[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'onair-hls-'));
    packets = readFlvPackets(makeTestFlv(dir, { seconds: 6 }));
    const config = loadConfig({}, { dataDir: join(dir, 'data'), media: { hlsSegment: '1s', hlsSegmenter: segmenter } });
    dataDir = config.dataDir;
    streams = new FakeRegistry();
    hls = new HlsServer({ restartDelayMs: 100, viewerIdleMs: 60_000 });
    hls.start({
      config, log: silentLogger(), streams,
      hooks: {
        authorizePublish: async () => ({ allow: false, reason: 'unused' }),
        authorizePlay: async (req) => {
          playRequests.push(req);
          if (req.token === 'slow') await new Promise((r) => setTimeout(r, 10_000));
          return req.token === 'good' ? { allow: true, viewerId: 'v-good' } : { allow: false, reason: 'bad token' };
        },
      },
      emit: (name, payload) => events.push({ name, payload }),
    });
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (!hls.handleHttp(req, res, url)) res.writeHead(418).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await hls.close();
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('muxes a live stream to HLS, checks every request, and cleans up on unpublish', async () => {
    const stream = new FakeStream('2001', '901', false);
    streams.publish(stream);
    for (const p of packets) stream.feed(p); // ffmpeg cuts by timestamps, so feeding fast is fine
    const folder = join(dataDir, 'hls', '2001');
    const playlist = await waitFor('3 segments', () => {
      const text = existsSync(join(folder, 'index.m3u8')) && readFileSync(join(folder, 'index.m3u8'), 'utf8');
      return text && (text.match(/\.ts/g) ?? []).length >= 3 ? text : undefined;
    });
    assert.match(playlist, /#EXT-X-TARGETDURATION:[12]\n/);
    const segment = /^(seg-\d+\.ts)$/m.exec(playlist)![1]!;

    // The viewer's playlist carries the token on every segment URI.
    const res = await fetch(`${base}/live/2001/index.m3u8?token=good`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/vnd.apple.mpegurl');
    const served = await res.text();
    const uris = served.split('\n').filter((l) => l && !l.startsWith('#'));
    assert.ok(uris.length >= 3);
    assert.ok(uris.every((u) => /^seg-\d+\.ts\?token=good$/.test(u)), served);

    const seg = await fetch(`${base}/live/2001/${segment}?token=good`);
    assert.equal(seg.status, 200);
    assert.equal(seg.headers.get('content-type'), 'video/mp2t');
    assert.equal((await seg.arrayBuffer()).byteLength > 1000, true);

    const probed = await ffprobe(`${base}/live/2001/index.m3u8?token=good`);
    assert.deepEqual(probed.map((s) => s.codec_name).sort(), ['aac', 'h264']);
    assert.equal(probed.find((s) => s.codec_type === 'video')?.width, 320);
    assert.equal(probed.find((s) => s.codec_type === 'video')?.height, 240);

    // Missing token -> 401, forged -> 403, on the playlist and on a segment; no media bytes.
    for (const path of ['index.m3u8', segment]) {
      const missing = await fetch(`${base}/live/2001/${path}`);
      assert.equal(missing.status, 401);
      assert.match(missing.headers.get('content-type') ?? '', /json/);
      await missing.text();
      const forged = await fetch(`${base}/live/2001/${path}?token=forged`);
      assert.equal(forged.status, 403);
      await forged.text();
    }
    assert.ok(playRequests.every((r) => r.protocol === 'hls' && r.streamName === '2001' && r.app === 'live'));

    // One viewer (token + ip) however many requests it makes.
    const started = events.filter((e) => e.name === 'play.started');
    assert.equal(started.length, 1);
    assert.equal((started[0]!.payload as MediaEvents['play.started']).viewerId, 'v-good');

    const session = hls.session('2001')!;
    const pid = session instanceof HlsSession ? session.ffmpegPid! : undefined;
    streams.unpublish(stream);
    await waitFor('folder removed', () => !existsSync(folder));
    if (pid !== undefined) assert.throws(() => process.kill(pid, 0), 'ffmpeg is gone');
    const ended = events.filter((e) => e.name === 'play.ended');
    assert.equal(ended.length, 1);
    assert.equal((ended[0]!.payload as MediaEvents['play.ended']).reason, 'stream-ended');
    const after = await fetch(`${base}/live/2001/index.m3u8?token=good`);
    assert.equal(after.status, 404);
    await after.text();
  });

  it('answers 404 for unknown streams and never serves outside the stream folder', async () => {
    const unknown = await fetch(`${base}/live/9999/index.m3u8?token=good`);
    assert.equal(unknown.status, 404);
    await unknown.text();
    for (const path of [
      '/live/..%2F..%2Fsecret/index.m3u8?token=good',
      '/live/2001/..%2Findex.m3u8?token=good',
      '/live/2001/seg-1.ts%00.txt?token=good',
      '/live/2001/secret?token=good',
      '/live/a/b/index.m3u8?token=good',
      '/other/2001/index.m3u8?token=good',
    ]) {
      const res = await fetch(base + path);
      assert.ok(res.status === 404 || res.status === 418, `${path} -> ${res.status}`);
      await res.text();
    }
    const post = await fetch(`${base}/live/9999/index.m3u8?token=good`, { method: 'POST' });
    assert.equal(post.status, 405);
    await post.text();
  });

  it('refuses when the play hook does not answer in time', async () => {
    const config = loadConfig({}, { dataDir: join(dir, 'data2'), media: { hookTimeout: 300 } });
    const local = new HlsServer();
    local.start({
      config, log: silentLogger(), streams: new FakeRegistry(),
      hooks: { authorizePublish: async () => ({ allow: false, reason: '' }), authorizePlay: () => new Promise(() => {}) },
      emit: () => {},
    });
    const srv = createServer((req, res) => void local.handleHttp(req, res, new URL(req.url ?? '/', 'http://x')));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const started = Date.now();
    const res = await fetch(`http://127.0.0.1:${(srv.address() as AddressInfo).port}/live/1/index.m3u8?token=x`);
    assert.equal(res.status, 403);
    assert.ok(Date.now() - started < 2000);
    await res.text();
    await local.close();
    await new Promise((r) => srv.close(r));
  });

  // The ffmpeg child's lifecycle (the in-process segmenter has none).
  if (segmenter === 'ffmpeg') it('restarts a crashed ffmpeg a bounded number of times', async () => {
    const stream = new FakeStream('2002', '902', false);
    streams.publish(stream);
    const session = hls.session('2002') as HlsSession;
    const first = await waitFor('ffmpeg pid', () => session.ffmpegPid);
    for (const p of packets.slice(0, 60)) stream.feed(p);
    process.kill(first, 'SIGKILL');
    const second = await waitFor('a new ffmpeg', () => session.ffmpegPid !== first && session.ffmpegPid);
    assert.notEqual(second, first);
    assert.equal(session.restarts, 1);
    assert.equal(stream.readers.size, 1, 'the dead feed was detached, the new one attached');
    streams.unpublish(stream);
    await waitFor('folder removed', () => !existsSync(join(dataDir, 'hls', '2002')));
  });

  if (segmenter === 'ffmpeg') it('gives up after the restart limit when ffmpeg cannot run at all', async () => {
    const config = loadConfig({}, { dataDir: join(dir, 'data3'), media: { ffmpegPath: '/nonexistent/ffmpeg', hlsSegmenter: 'ffmpeg' } });
    const local = new HlsServer({ maxRestarts: 2, restartDelayMs: 20 });
    const reg = new FakeRegistry();
    local.start({
      config, log: silentLogger(), streams: reg,
      hooks: { authorizePublish: async () => ({ allow: false, reason: '' }), authorizePlay: async () => ({ allow: true }) },
      emit: () => {},
    });
    const stream = new FakeStream('2003', '903', false);
    reg.publish(stream);
    for (const p of packets.slice(0, 30)) stream.feed(p);
    await waitFor('restarts exhausted', () => (local.session('2003') as HlsSession).restarts === 2 && stream.readers.size === 0, 5000);
    reg.unpublish(stream);
    await local.close();
  });
});
