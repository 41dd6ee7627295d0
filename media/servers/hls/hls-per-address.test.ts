/**
 * HLS sessions per client address: a session is a (stream, play token, address) that keeps polling
 * (HlsViewerTracker); one address may have ONAIR_MEDIA_PLAYERS_PER_ADDRESS sessions of a stream,
 * as it may have HTTP-FLV players. Before, one address that fetched an anonymous play token every
 * second (each one differs) and asked for the playlist with each counted as that many viewers.
 * Behind a trusted proxy, as players-per-address.test.ts (loopback is never capped).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { missingTool } from '../../../core/testing/tools.js';
import { waitFor } from '../../../core/testing/wait-for.js';
import type { StreamHooks } from '../../../core/media/media-contract.js';
import { ffmpegPublish, killHard, startEngine, testConfig, type EngineHarness, TEST_KEY, TEST_STREAM } from '../../engine-test-kit.js';
import { HlsServer } from './server.js';

const IDLE_MS = 1500;

describe('HLS sessions per client address', { skip: missingTool('ffmpeg') }, () => {
  let h: EngineHarness;
  let hls: HlsServer;
  let ff: ChildProcess | undefined;
  /** Every token starting with "good" plays: a token per session. */
  const hooks: StreamHooks = {
    async authorizePublish(req) {
      return req.streamKey === TEST_KEY ? { allow: true, streamName: TEST_STREAM, record: false, sessionId: 's1' } : { allow: false, reason: 'bad key' };
    },
    async authorizePlay(req) {
      return req.token?.startsWith('good') ? { allow: true } : { allow: false, reason: 'bad token' };
    },
  };

  before(async () => {
    const config = testConfig({ hls: true, hlsSegment: 1000, playersPerAddress: 2 });
    config.http.trustedProxies = ['127.0.0.1']; // the test is the edge: its X-Forwarded-For names the client
    hls = new HlsServer({ viewerIdleMs: IDLE_MS });
    h = await startEngine({ config, hooks, plugins: [hls] });
    ff = ffmpegPublish(`rtmp://127.0.0.1:${h.rtmpPort}/live/${TEST_KEY}`, { seconds: 120, extra: ['-g', '30'] });
    await waitFor('the playlist has segments', async () => /seg-\d+\.ts/.test((await get('good-probe', '198.51.100.99')).body), 30_000);
  });
  after(async () => {
    killHard(ff);
    await h.close();
  });

  function get(token: string, client: string, file = 'index.m3u8'): Promise<{ status: number; retryAfter?: string; body: string }> {
    return new Promise((resolve, reject) => {
      const r = request(`http://127.0.0.1:${h.httpPort}/live/${TEST_STREAM}/${file}${file.includes('?') ? '' : `?token=${token}`}`, {
        headers: { 'X-Forwarded-For': client },
      }, (res) => {
        let body = '';
        res.setEncoding('latin1');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] as string | undefined, body }));
      });
      r.on('error', reject);
      r.end();
    });
  }

  it('answers 429 too_many_players for the session past the cap; the sessions it has keep polling; another address plays', async () => {
    const a = '203.0.113.9';
    const first = await get('good-a1', a);
    assert.equal(first.status, 200);
    assert.equal((await get('good-a2', a)).status, 200);
    const refused = await get('good-a3', a);
    assert.equal(refused.status, 429);
    assert.equal(refused.retryAfter, '2');
    const error = (JSON.parse(refused.body) as { error: { code: string; message: string } }).error;
    assert.equal(error.code, 'too_many_players');
    assert.match(error.message, /too many HLS players of this stream from your address/);
    // A segment asked for with a new token would start a session too.
    const seg = /^(seg-\d+\.ts)\?token=good-a1$/m.exec(first.body)![1]!;
    assert.equal((await get('', a, `${seg}?token=good-a4`)).status, 429);
    // The two sessions keep their playlist and segments.
    assert.equal((await get('good-a1', a)).status, 200);
    assert.equal((await get('', a, `${seg}?token=good-a2`)).status, 200);
    assert.equal((await get('good-b1', '198.51.100.7')).status, 200, 'another address is not held back');
    assert.equal(hls.viewerCount(TEST_STREAM), 4, 'the probe, two sessions of the capped address, one elsewhere');
  });

  it('a player that reloads with a new token plays once its earlier sessions have timed out', async () => {
    const a = '203.0.113.20';
    assert.equal((await get('good-r1', a)).status, 200);
    assert.equal((await get('good-r2', a)).status, 200);
    assert.equal((await get('good-r3', a)).status, 429);
    // Both sessions stop polling (the page reloaded); they time out after IDLE_MS, the reload plays.
    await new Promise((r) => setTimeout(r, IDLE_MS + 100));
    assert.equal((await get('good-r3', a)).status, 200);
    assert.equal((await get('good-r4', a)).status, 200);
  });
});
