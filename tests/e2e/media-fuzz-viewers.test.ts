/**
 * Viewer-side abuse on every playback protocol (media-fuzz-viewer-cases.ts) against an engine in
 * its own process, while a healthy HTTP-FLV viewer watches a live ffmpeg stream: the process must
 * not die (one WS-FLV viewer's Close frame used to end it with "Maximum call stack size
 * exceeded"), the healthy viewer must not stall, every protocol still serves a new viewer, and no
 * viewer session outlives its abuser.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { get } from 'node:http';
import WebSocket from 'ws';
import { missingTool } from '../../core/testing/tools.js';
import { RtmpClient } from '../../media/servers/rtmp/client.js';
import { waitFor } from './media-fixtures.js';
import { healthyViewer, openViewer, startFuzzServer, type FuzzServer, type Watcher } from './media-fuzz-kit.js';
import { VIEWER_ABUSE, type Target } from './media-fuzz-viewer-cases.js';

const skip = missingTool('ffmpeg');
const ROUNDS = 4;
const CONCURRENCY = 12;
const TIME_BUDGET_MS = 40_000;

function getText(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    get(url, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', () => resolve({ status: 0, body: '' }));
  });
}

describe('viewer abuse on every playback protocol under a live stream', { skip }, () => {
  let server: FuzzServer;
  const watchers: Watcher[] = [];
  before(async () => {
    server = await startFuzzServer({ hls: true });
  });
  after(async () => {
    for (const w of watchers) w.close();
    await server?.stop();
  });

  it('survives abrupt closes, half closes, RSTs, Close frames on half-open sockets and viewers that never read', async () => {
    const viewer = await healthyViewer(server.http);
    watchers.push(viewer);
    const playlist = await waitFor('the HLS playlist', async () => {
      const p = await getText(`${server.http}/live/4001/index.m3u8?token=good`);
      return p.status === 200 && /seg-\d+\.ts/.test(p.body) ? p.body : undefined;
    }, 20_000);
    const target: Target = { httpPort: server.httpPort, rtmpPort: server.rtmpPort, segment: /seg-\d+\.ts/.exec(playlist)![0] };

    const started = Date.now();
    const jobs = Array.from({ length: ROUNDS }, () => VIEWER_ABUSE).flat();
    const ran: Record<string, number> = {};
    let next = 0;
    const worker = async () => {
      while (next < jobs.length && Date.now() - started < TIME_BUDGET_MS && !server.exit()) {
        const abuse = jobs[next++]!;
        await abuse.run(target).catch(() => {});
        ran[abuse.protocol] = (ran[abuse.protocol] ?? 0) + 1;
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const gap = viewer.longestGap(started);
    console.log(`viewer abuse: ${JSON.stringify(ran)} in ${Date.now() - started} ms; healthy viewer ${viewer.bytes} bytes, longest gap ${gap} ms`);

    assert.equal(server.exit(), undefined, `the server died: ${server.stderr()}`);
    assert.equal(next, jobs.length, 'every abuse case ran in the time budget');
    assert.equal(viewer.parseError, undefined);
    assert.ok(gap < 1000, `the healthy viewer stalled for ${gap} ms`);

    // No session outlives its abuser: only the healthy viewer is left (never-readers were evicted or closed).
    await waitFor('abusers gone', async () => {
      const s = JSON.parse((await getText(`${server.http}/fuzz/state`)).body) as { viewers: number };
      return s.viewers === 1 ? true : undefined;
    }, 10_000);

    // Every protocol still serves a new viewer.
    const fresh = await openViewer(`${server.http}/live/4001.flv?token=good`);
    watchers.push(fresh.watcher);
    assert.equal(fresh.status, 200);
    await waitFor('HTTP-FLV media', () => fresh.watcher.tags > 5, 10_000);
    const ws = new WebSocket(`ws://127.0.0.1:${server.httpPort}/live/4001.flv?token=good`);
    let wsMessages = 0;
    ws.on('message', () => wsMessages++);
    await waitFor('WS-FLV media', () => wsMessages > 5, 10_000);
    ws.terminate();
    const rtmp = await RtmpClient.open('127.0.0.1', server.rtmpPort);
    let rtmpVideo = 0;
    rtmp.on('message', (m) => void (m.typeId === 9 && rtmpVideo++));
    await rtmp.connect('live');
    rtmp.play('4001?token=good');
    await waitFor('RTMP media', () => rtmpVideo > 5, 10_000);
    rtmp.close();
    assert.equal((await getText(`${server.http}/live/4001/index.m3u8?token=good`)).status, 200);
    assert.equal(server.exit(), undefined, `the server died: ${server.stderr()}`);
  });
});
