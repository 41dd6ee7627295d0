/**
 * Admission control end to end (issue 15, point 2): when the engine falls behind on its writes
 * (its flush lag, OverloadGuard), new viewers are refused (HTTP-FLV and WS-FLV 503 with a JSON
 * error and Retry-After, RTMP NetStream.Play.Failed) while the viewers it has keep playing, and
 * new viewers are admitted again once it caught up. The lag is real: a plugin holds the engine's
 * event loop 60 ms on every turn, as a saturated engine's work would, against a small limit
 * (ONAIR_MEDIA_MAX_FLUSH_LAG=30ms) so the test needs no thousands of viewers. The engine runs in a
 * process of its own (starved-engine.ts): only its loop is starved, not the test's clients and
 * assertions, and the hold is a known time per turn (no CPU burn per video packet, whose sum
 * depended on how many packets a read brought, and so on the machine's load). The slow-viewer
 * limit is raised (30 s) so that a long saturated spell does not evict the first viewer.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import type { IncomingMessage } from 'node:http';
import { request as httpRequest } from 'node:http';
import { RtmpClient } from './servers/rtmp/client.js';
import { ffmpegPublish, httpGet, until, sleep, killHard, TEST_TOKEN } from './engine-test-kit.js';
import { startStarvedEngine, type StarvedEngine } from './starved-engine.js';
import { missingTool } from '../core/testing/tools.js';

function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (d: string) => (body += d));
    res.on('end', () => resolve(body));
  });
}

describe('admission control from the flush lag', { skip: missingTool('ffmpeg') }, () => {
  let h: StarvedEngine;
  let ff: ChildProcess | undefined;
  const flv = `/live/room1.flv?token=${TEST_TOKEN}`;

  before(async () => {
    // Each turn of the engine's loop spins 60 ms while slow, twice the lag limit: every write
    // waits past the limit, and the loop never waits idle (the guard wants it saturated). The RTMP start, handshake and idle timeouts are raised: a starved
    // engine reaches a handshake or connect late, and a real server's deadlines would then
    // measure the test's burn. Shedding is off (decisions every 10 min): the reader burns whatever
    // the audience, so a sustained spell would shed the first viewer, and with nobody left to
    // write the engine is no longer behind; engine-shed.test.ts tests shedding.
    h = await startStarvedEngine({
      media: { maxFlushLag: 30, viewerQueueTime: 30_000, idleTimeout: 120_000 },
      rtmp: { startTimeout: 120_000 },
      tuning: { handshakeTimeoutMs: 120_000, shedIntervalMs: 600_000 },
      spinMs: 60,
      packetBurnMs: 0,
    });
    // Longer than the test can take: a publish that ended first left nothing to admit the last viewer to.
    ff = ffmpegPublish(`rtmp://127.0.0.1:${h.rtmpPort}/live/X`, { seconds: 300 });
    await h.waitForEvent('publish.started');
  });
  after(async () => {
    killHard(ff);
    await h.close();
  });

  it('refuses new viewers with 503 / NetStream.Play.Failed while behind; the viewer already playing keeps playing', async () => {
    const first = await httpGet(h.httpPort, flv);
    assert.equal(first.statusCode, 200);
    let firstBytes = 0;
    let firstEnded = false;
    first.on('data', (d: Buffer) => (firstBytes += d.length));
    first.on('close', () => (firstEnded = true));
    assert.ok(await until(() => firstBytes > 50_000, 10_000), 'the first viewer plays');
    assert.equal(await h.metricValue('onair_media_overloaded'), 0);

    await h.setSlow(true);
    const release = () => h.setSlow(false);
    // The engine's state is read by retrying each protocol until it is refused (bounded), not by
    // one attempt at one moment: its starved loop answers late.
    try {
      let refused: IncomingMessage | undefined;
      let deadline = Date.now() + 20_000;
      while (!refused && Date.now() < deadline) {
        const res = await httpGet(h.httpPort, flv);
        if (res.statusCode === 503) refused = res;
        else res.destroy();
        await sleep(50);
      }
      assert.ok(refused, 'a new HTTP-FLV viewer was refused while the engine was behind');
      assert.equal(refused.headers['retry-after'], '2');
      assert.match(String(refused.headers['content-type']), /application\/json/);
      assert.equal(JSON.parse(await readBody(refused)).error.code, 'unavailable');
      let overloadedSeen = false;
      deadline = Date.now() + 20_000;
      while (!overloadedSeen && Date.now() < deadline) {
        overloadedSeen = (await h.metricValue('onair_media_overloaded')) === 1;
        if (!overloadedSeen) await sleep(50);
      }
      assert.ok(overloadedSeen, 'onair_media_overloaded reads 1 while behind');

      // WS-FLV: the upgrade is answered 503 as well.
      let wsRefused: IncomingMessage | undefined;
      deadline = Date.now() + 60_000;
      while (!wsRefused && Date.now() < deadline) {
        const outcome = await new Promise<IncomingMessage | undefined>((resolve, reject) => {
          const req = httpRequest({
            host: '127.0.0.1', port: h.httpPort, path: flv, agent: false,
            headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' },
          });
          req.on('response', resolve);
          req.on('upgrade', (_res, socket) => { socket.destroy(); resolve(undefined); });
          req.on('error', reject);
          req.end();
        });
        if (outcome?.statusCode === 503) wsRefused = outcome;
        else { outcome?.destroy(); await sleep(50); }
      }
      assert.ok(wsRefused, 'a new WS-FLV viewer was refused while the engine was behind');
      assert.equal(wsRefused.headers['retry-after'], '2');
      wsRefused.destroy();

      // RTMP: the play is answered with an error status and no media.
      let rtmpRefused = false;
      // A handshake or status the starved engine answers too late is tried again (bounded), as a player would.
      deadline = Date.now() + 90_000;
      while (!rtmpRefused && Date.now() < deadline) {
        const c = await RtmpClient.open('127.0.0.1', h.rtmpPort, 30_000).catch(() => undefined);
        if (!c) continue;
        try {
          let media = 0;
          c.on('message', (m) => void (m.typeId === 8 || m.typeId === 9 ? media++ : 0));
          const connected = await c.connect('live').then(() => true, () => false);
          if (!connected) continue;
          const status = c.nextStatus(30_000);
          c.play(`room1?token=${TEST_TOKEN}`);
          const st = await status.catch(() => undefined);
          if (st?.level === 'error') {
            assert.equal(st.code, 'NetStream.Play.Failed');
            assert.match(String(st.description), /busy/);
            assert.equal(media, 0);
            rtmpRefused = true;
          }
        } finally {
          c.close();
        }
      }
      assert.ok(rtmpRefused, 'a new RTMP player was refused while the engine was behind');
    } finally {
      await release();
    }
    assert.ok((await h.metricValue('onair_media_overload_refusals_total', { protocol: 'http-flv' })) >= 1);
    assert.ok((await h.metricValue('onair_media_overload_refusals_total', { protocol: 'ws-flv' })) >= 1);
    assert.ok((await h.metricValue('onair_media_overload_refusals_total', { protocol: 'rtmp' })) >= 1);

    // The viewer admitted before kept its connection and keeps receiving media.
    const before = firstBytes;
    assert.ok(await until(() => firstBytes > before + 50_000, 20_000), 'the first viewer still receives media');
    assert.equal(firstEnded, false);

    // Caught up: new viewers are admitted again.
    let admitted = false;
    const deadline = Date.now() + 20_000;
    while (!admitted && Date.now() < deadline) {
      const res = await httpGet(h.httpPort, flv);
      admitted = res.statusCode === 200;
      res.destroy();
      if (!admitted) await sleep(100);
    }
    assert.ok(admitted, 'a new viewer is admitted once the lag is gone');
    assert.equal(await h.metricValue('onair_media_overloaded'), 0);
    first.destroy();
  });
});
