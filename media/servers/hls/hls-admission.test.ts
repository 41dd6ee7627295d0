/**
 * HLS admission control end to end: while the engine is behind on its writes (OverloadGuard, as
 * in media/engine-admission.test.ts: a reader of the stream burns more CPU than the core has,
 * against a 30 ms lag limit), a NEW HLS viewer's playlist request is refused with 503 and
 * Retry-After before the play hook is asked, while a viewer already watching keeps getting its
 * playlist and segments; once the engine caught up the new viewer is admitted. The lag is made
 * by an HTTP-FLV viewer's writes (HLS viewers are plain requests, not hub readers). Deadlines are
 * generous: the burn starves the event loop this test shares with the engine.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import type { IncomingMessage } from 'node:http';
import { missingTool } from '../../../core/testing/tools.js';
import type { StreamHooks } from '../../../core/media/media-contract.js';
import {
  ffmpegPublish, httpGet, killHard, metricValue, sleep, startEngine, testConfig, testHooks, waitForEvent, SlowReader, type EngineHarness,
} from '../../engine-test-kit.js';
import { waitFor } from '../../../core/testing/wait-for.js';
import { HlsServer } from './server.js';

async function get(port: number, path: string): Promise<{ status: number; headers: IncomingMessage['headers']; body: string }> {
  const res = await httpGet(port, path);
  let body = '';
  res.setEncoding('utf8');
  for await (const d of res) body += d as string;
  return { status: res.statusCode ?? 0, headers: res.headers, body };
}

describe('HLS admission while the engine is behind', { skip: missingTool('ffmpeg') }, () => {
  let h: EngineHarness;
  let ff: ChildProcess | undefined;
  // Each turn of the loop spins 60 ms, twice the lag limit, as in media/engine-admission.test.ts:
  // at the default 5 ms the guard's sustained-overload rule was never met in CI (the reader's burn
  // per video packet alone does not keep every write past the limit for a whole second).
  const slow = new SlowReader(60);
  // 'good' watches before the overload; each new viewer comes with a token of its own ('good-N'):
  // one admitted before the guard noticed the lag would be a known viewer from then on.
  const base = testHooks();
  const hooks: StreamHooks = {
    authorizePublish: (req) => base.authorizePublish(req),
    authorizePlay: async (req) => (req.token?.startsWith('good') ? { allow: true } : { allow: false, reason: 'bad token' }),
  };

  before(async () => {
    h = await startEngine({
      config: testConfig({ hls: true, hlsSegment: 1000, maxFlushLag: 30, viewerQueueTime: 30_000, idleTimeout: 120_000 }, { startTimeout: 120_000 }),
      tuning: { handshakeTimeoutMs: 120_000 },
      hooks,
      plugins: [slow, new HlsServer({ viewerIdleMs: 120_000 })],
    });
    // Longer than the test can take (30 + 40 + 40 s of deadlines, a starved loop between them): a
    // publish that ended first made the last step wait for a stream that was gone (CI, 150 s run).
    ff = ffmpegPublish(`rtmp://127.0.0.1:${h.rtmpPort}/live/X`, { seconds: 300, extra: ['-g', '30'] });
    await waitForEvent(h, 'publish.started');
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

    slow.slow = true;
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
      slow.slow = false;
    }
    assert.ok((await metricValue(h, 'onair_media_overload_refusals_total', { protocol: 'hls' })) >= 1, 'counted as an HLS refusal');

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
