/**
 * The standalone media service end to end: media/main.ts with HttpStreamHooks and HttpEventSink
 * against a stand-in control (a real HTTP server speaking the agreed SRS-style hook JSON and
 * verifying signed callbacks), ffmpeg publishing over RTMP, ffprobe reading HLS and the recording.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { loadConfig } from '../../core/config/load.js';
import { silentLogger } from '../../core/logging/logger.js';
import { missingTool } from '../../core/testing/tools.js';
import { waitFor } from '../../core/testing/wait-for.js';
import type { MediaEventName, MediaEvents } from '../../core/media/media-contract.js';
import { startMediaService, type MediaService } from '../../media/main.js';
import { HttpMediaControl } from '../../core/media/http-media-control.js';
import { ffprobe, publishWithFfmpeg, startStandInControl, type StandInControl } from './media-fixtures.js';

const skip = missingTool('ffmpeg') || missingTool('ffprobe');
const KEY = 'media-key-for-tests-0123456789';


const exited = (p: ChildProcess) => new Promise<number | null>((r) => (p.exitCode !== null ? r(p.exitCode) : p.once('exit', (c) => r(c))));

describe('standalone media service', { skip }, () => {
  let dir: string;
  let control: StandInControl;
  let service: MediaService;
  const hookCalls: Record<string, unknown>[] = [];
  const children: ChildProcess[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'onair-media-svc-'));
    control = await startStandInControl(KEY, (path, hookBody, res) => {
      const body = hookBody as { stream: string; param: string };
      hookCalls.push(body);
      if (path === '/api/v1/hook/on_publish') {
        res.end(body.stream === 'sk_1001' ? '{"code":0,"data":{"stream_name":"1001","record":true}}' : '{"code":403}');
        return true;
      }
      if (path === '/api/v1/hook/on_play') {
        const token = new URLSearchParams(body.param.replace(/^\?/, '')).get('token');
        if (token === 'good') res.end('0');
        else res.writeHead(403).end('{"code":403}');
        return true;
      }
      return false;
    });
    const config = loadConfig({}, {
      host: '127.0.0.1', dataDir: join(dir, 'data'), secret: 'a-test-secret-0123456789',
      http: { port: 0 }, rtmp: { port: 0 },
      callbacks: { mediaKey: KEY },
      media: { controlUrl: control.url, hlsSegment: '1s', statsInterval: '1s' },
    });
    service = await startMediaService(config, silentLogger());
  });

  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    await service?.close();
    await control?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const base = () => `http://127.0.0.1:${service.httpPort}`;
  const rtmp = (key: string) => `rtmp://127.0.0.1:${service.rtmpPort}/live/${key}`;
  const events = (name: MediaEventName) => control.callbacks.filter((c) => c.event === name).map((c) => c.payload);

  it('refuses an unknown key before any media: no stream, no HLS folder, no recording', async () => {
    const ff = publishWithFfmpeg(rtmp('sk_wrong'), { seconds: 5 });
    children.push(ff);
    const code = await exited(ff);
    assert.notEqual(code, 0);
    assert.deepEqual(await service.engine.listStreams(), []);
    const data = join(dir, 'data');
    assert.equal(existsSync(join(data, 'recordings')) && readdirSync(join(data, 'recordings')).length > 0, false);
    assert.equal(existsSync(join(data, 'hls')) && readdirSync(join(data, 'hls')).length > 0, false);
    assert.ok(hookCalls.some((h) => h.stream === 'sk_wrong'));
  });

  it('publishes, serves HLS behind the play check, records, and reports through signed callbacks', async () => {
    const ff = publishWithFfmpeg(rtmp('sk_1001'), { seconds: 60 });
    children.push(ff);
    const playlistUrl = `${base()}/live/1001/index.m3u8?token=good`;
    const playlist = await waitFor('an HLS playlist with 2 segments', async () => {
      const res = await fetch(playlistUrl);
      const text = await res.text();
      return res.status === 200 && (text.match(/seg-\d+\.ts\?token=good/g) ?? []).length >= 2 ? text : undefined;
    });
    const segment = /^(seg-\d+\.ts)\?token=good$/m.exec(playlist)![1]!;
    const probed = await ffprobe(playlistUrl);
    assert.deepEqual(probed.map((s) => s.codec_name).sort(), ['aac', 'h264']);
    const video = probed.find((s) => s.codec_type === 'video')!;
    assert.deepEqual([video.width, video.height], [320, 240]);

    for (const path of ['index.m3u8', segment]) {
      for (const [query, status] of [['', 401], ['?token=forged', 403], ['?token=expired', 403]] as const) {
        const res = await fetch(`${base()}/live/1001/${path}${query}`);
        assert.equal(res.status, status, `${path}${query}`);
        assert.doesNotMatch(res.headers.get('content-type') ?? '', /mp2t|mpegurl/);
        await res.text();
      }
    }

    // Control's view of media: health, metrics, the signed control API.
    assert.equal((await fetch(`${base()}/healthz`)).status, 200);
    assert.match(await (await fetch(`${base()}/metrics`)).text(), /onair_media_streams 1/);
    const client = new HttpMediaControl({ baseUrl: base(), key: KEY });
    const listed = await client.listStreams();
    assert.deepEqual(listed.map((s) => s.streamName), ['1001']);
    assert.equal(listed[0]!.viewers.hls, 1, 'the HLS viewer (token good, one IP) is counted');
    await waitFor('publish.started callback', () => events('publish.started').length === 1);
    const started = events('publish.started')[0] as MediaEvents['publish.started'];
    assert.equal(started.video?.width, 320);
    assert.equal(started.audio?.codec, 'AAC');
    await waitFor('a stream.stats heartbeat', () => events('stream.stats').length > 0);
    const recording = join(dir, 'data', 'recordings', '1001', `${started.publisherId}.flv`);
    assert.ok(existsSync(recording), 'recording in progress');

    // Kick through the control API: the publisher is dropped at once, HLS stops and is cleaned,
    // the recording is closed and reported.
    assert.equal(await client.kickPublisher('1001'), true);
    await exited(ff);
    const ended = await waitFor('publish.ended callback', () => events('publish.ended')[0] as MediaEvents['publish.ended'] | undefined);
    assert.equal(ended.reason, 'kicked');
    const done = await waitFor('record.done callback', () => events('record.done')[0] as MediaEvents['record.done'] | undefined);
    assert.equal(done.path, recording);
    assert.equal(done.size, statSync(recording).size);
    assert.ok(done.durationMs >= 2000, `duration ${done.durationMs}`);
    const recorded = await ffprobe(recording);
    assert.deepEqual(recorded.map((s) => s.codec_name).sort(), ['aac', 'h264']);
    await waitFor('HLS folder removed', () => !existsSync(join(dir, 'data', 'hls', '1001')));
    const gone = await fetch(playlistUrl);
    assert.equal(gone.status, 404);
    await gone.text();
    assert.equal(await client.kickPublisher('1001'), false);
  });
});
