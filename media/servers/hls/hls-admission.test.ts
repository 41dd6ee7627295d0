/**
 * HLS admission control end to end: while the engine is behind on its writes (OverloadGuard, as
 * in media/engine-admission.test.ts: a plugin holds the engine's event loop 60 ms on every turn,
 * against a 30 ms lag limit), a NEW HLS viewer's playlist request is refused with 503 and
 * Retry-After before the play hook is asked, while a viewer already watching keeps getting its
 * playlist and segments; once the engine caught up the new viewer is admitted. The lag is made
 * by an HTTP-FLV viewer's writes (HLS viewers are plain requests, not hub readers). The engine
 * runs in a process of its own (media/starved-engine.ts): only its loop is starved, not this
 * test's requests and assertions. Deadlines stay generous: the starved engine answers late.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import type { IncomingMessage } from 'node:http';
import { missingTool } from '../../../core/testing/tools.js';
import { ffmpegPublish, httpGet, killHard, sleep } from '../../engine-test-kit.js';
import { startStarvedEngine, type StarvedEngine } from '../../starved-engine.js';
import { waitFor } from '../../../core/testing/wait-for.js';

async function get(port: number, path: string): Promise<{ status: number; headers: IncomingMessage['headers']; body: string }> {
  const res = await httpGet(port, path);
  let body = '';
  res.setEncoding('utf8');
  for await (const d of res) body += d as string;
  return { status: res.statusCode ?? 0, headers: res.headers, body };
}

describe('HLS admission while the engine is behind', { skip: missingTool('ffmpeg') }, () => {
  let h: StarvedEngine;
  let ff: ChildProcess | undefined;

  before(async () => {
    // Each turn of the engine's loop spins 60 ms while slow, twice the lag limit, as in
    // media/engine-admission.test.ts: at the default 5 ms the guard's sustained-overload rule was
    // never met in CI. 'good' watches before the overload; each new viewer comes with a token of
    // its own ('good-N', every token starting with 'good' plays): one admitted before the guard
    // noticed the lag would be a known viewer from then on.
    h = await startStarvedEngine({
      media: { hls: true, hlsSegment: 1000, maxFlushLag: 30, viewerQueueTime: 30_000, idleTimeout: 120_000 },
      rtmp: { startTimeout: 120_000 },
      tuning: { handshakeTimeoutMs: 120_000 },
      spinMs: 60,
      packetBurnMs: 0,
      hlsViewerIdleMs: 120_000,
      playTokenPrefix: 'good',
    });
    // Longer than the test can take (30 + 40 + 40 s of deadlines, a starved loop between them): a
    // publish that ended first made the last step wait for a stream that was gone (CI, 150 s run).
    ff = ffmpegPublish(`rtmp://127.0.0.1:${h.rtmpPort}/live/X`, { seconds: 300, extra: ['-g', '30'] });
    await h.waitForEvent('publish.started');
  });
  after(async () => {
    killHard(ff);
    await h.close();
  });

  it('refuses a new HLS viewer with 503 + Retry-After while behind; the viewer already watching keeps its playlist and segments', async () => {
    const playlistOf = (token: string) => `/live/room1/index.m3u8?token=${token}`;
    // The first HLS viewer is admitted and watching.
    await waitFor('the playlist has segments', async () => {
      const r = await get(h.httpPort, playlistOf('good'));
      return r.status === 200 && /seg-\d+\.ts/.test(r.body);
    }, 30_000);
    // An FLV viewer whose writes the engine falls behind on.
    const flv = await httpGet(h.httpPort, '/live/room1.flv?token=good');
    assert.equal(flv.statusCode, 200);
    flv.resume();

    await h.setSlow(true);
    try {
      let refused: { status: number; headers: IncomingMessage['headers']; body: string } | undefined;
      const deadline = Date.now() + 40_000;
      for (let n = 0; !refused && Date.now() < deadline; n++) {
        const r = await get(h.httpPort, playlistOf(`good-${n}`));
        if (r.status === 503) refused = r;
        else await sleep(50);
      }
      assert.ok(refused, 'a new HLS viewer was refused while the engine was behind');
      assert.equal(refused.headers['retry-after'], '2');
      assert.equal(JSON.parse(refused.body).error.code, 'unavailable');
      // The viewer already watching is never refused: its playlist and a segment still come.
      const mine = await get(h.httpPort, playlistOf('good'));
      assert.equal(mine.status, 200);
      const seg = /^(seg-\d+\.ts\?token=good)$/m.exec(mine.body)![1]!;
      const segRes = await httpGet(h.httpPort, `/live/room1/${seg}`);
      assert.equal(segRes.statusCode, 200);
      assert.equal(segRes.headers['content-type'], 'video/mp2t');
      segRes.resume();
    } finally {
      await h.setSlow(false);
    }
    assert.ok((await h.metricValue('onair_media_overload_refusals_total', { protocol: 'hls' })) >= 1, 'counted as an HLS refusal');

    // Caught up: the new viewer is admitted.
    let lastStatus = 0;
    await waitFor('the new viewer admitted once the lag is gone', async () => {
      lastStatus = (await get(h.httpPort, playlistOf('good-late'))).status;
      return lastStatus === 200;
    }, 60_000, 100).catch((err: Error) => {
      throw new Error(`${err.message} (last status ${lastStatus}, publisher ${ff?.exitCode === null ? 'running' : `exited ${ff?.exitCode}`})`);
    });
    flv.destroy();
  });
});
