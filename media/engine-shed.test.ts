/**
 * Shedding end to end (issue 15, point 2): when the engine stays behind on its writes despite
 * refusing new viewers (viewers admitted before the lag built up), it closes the most recently
 * admitted viewers, newest first, until it catches up: never the publisher, never an internal
 * reader. Counted by protocol (onair_media_shed_viewers_total), play.ended reason 'shed', logged
 * once per spell.
 *
 * The lag is real and grows with the audience, as a saturated engine's does: a reader of the stream
 * burns more CPU than the core has while two viewers or more are watching, against a small limit
 * (ONAIR_MEDIA_MAX_FLUSH_LAG=30ms). So with three viewers, shedding the newest two brings the engine
 * back and the first stays. As in engine-admission.test.ts the burn starves the event loop this test
 * shares with the engine: the slow-viewer limit and the RTMP handshake, start and idle deadlines are
 * raised, the deadlines are generous, and the engine decides every 1.5 s so that the lag, smoothed
 * over the ticks, has recovered before the next decision.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import type { IncomingMessage } from 'node:http';
import { RtmpClient } from './servers/rtmp/client.js';
import { startEngine, testConfig, ffmpegPublish, waitForEvent, httpGet, until, killHard, burnCpu, metricValue, TEST_TOKEN, type EngineHarness } from './engine-test-kit.js';
import { missingTool } from '../core/testing/tools.js';
import { captureLogger } from '../core/testing/log-capture.js';
import type { PlayEnded, PlayStarted } from '../core/media/media-contract.js';
import type { MediaPlugin, MediaPluginContext, LiveStreamView } from './plugin.js';
import type { MediaPacket } from './stream/media-packet.js';

/** A plugin whose reader spends 40 ms of CPU on every video packet (30 a second) while `burn()` says so. */
class BurningReader implements MediaPlugin {
  readonly name = 'burning-reader';
  packets = 0;
  ended = false;
  constructor(private readonly burn: () => boolean) {}
  start(ctx: MediaPluginContext): void {
    ctx.streams.on('publish', (s: LiveStreamView) => {
      s.addReader({
        id: `burn-${s.publisherId}`,
        kind: 'internal',
        onPacket: (p: MediaPacket) => {
          this.packets++;
          if (p.type === 9 && this.burn()) burnCpu(40);
        },
        onStreamEnd: () => void (this.ended = true),
      });
    });
  }
  async close(): Promise<void> {}
}

describe('shedding the newest viewers while the engine stays behind', { skip: missingTool('ffmpeg') }, () => {
  let h: EngineHarness;
  let ff: ChildProcess | undefined;
  let armed = false;
  let live = 0;
  const started: PlayStarted[] = [];
  const ended: PlayEnded[] = [];
  const reader = new BurningReader(() => armed && live >= 2);
  const captured = captureLogger('info');
  const flv = `/live/room1.flv?token=${TEST_TOKEN}`;

  before(async () => {
    h = await startEngine({
      config: testConfig({ maxFlushLag: 30, viewerQueueTime: 60_000, idleTimeout: 120_000 }, { startTimeout: 120_000 }),
      tuning: { handshakeTimeoutMs: 120_000, shedIntervalMs: 1500 },
      plugins: [reader],
      log: captured.log,
    });
    h.engine.on('play.started', (e) => {
      started.push(e);
      live++;
    });
    h.engine.on('play.ended', (e) => {
      ended.push(e);
      live--;
    });
    ff = ffmpegPublish(`rtmp://127.0.0.1:${h.rtmpPort}/live/X`, { seconds: 90 });
    await waitForEvent(h, 'publish.started');
  });
  after(async () => {
    killHard(ff);
    await h.close();
  });

  it('closes the newest viewers first, by protocol, until the lag recovers; the first viewer, the publisher and the internal reader stay', async () => {
    // A: HTTP-FLV, B: RTMP, C: HTTP-FLV, admitted in that order while the engine keeps up.
    const a = await httpGet(h.httpPort, flv);
    assert.equal(a.statusCode, 200);
    let aBytes = 0;
    let aClosed = false;
    a.on('data', (d: Buffer) => (aBytes += d.length));
    a.on('close', () => (aClosed = true));
    assert.ok(await until(() => aBytes > 50_000, 20_000), 'A plays');

    const b = await RtmpClient.open('127.0.0.1', h.rtmpPort, 20_000);
    let bMedia = 0;
    b.on('message', (m) => void (m.typeId === 8 || m.typeId === 9 ? bMedia++ : 0));
    await b.connect('live');
    b.play(`room1?token=${TEST_TOKEN}`);
    assert.ok(await until(() => bMedia > 10, 20_000), 'B plays');

    const c: IncomingMessage = await httpGet(h.httpPort, flv);
    assert.equal(c.statusCode, 200);
    let cBytes = 0;
    c.on('data', (d: Buffer) => (cBytes += d.length));
    assert.ok(await until(() => cBytes > 50_000, 20_000), 'C plays');
    assert.equal(started.length, 3);
    assert.equal(live, 3);

    armed = true;
    try {
      assert.ok(await until(() => ended.filter((e) => e.reason === 'shed').length >= 2, 90_000, 100), `two viewers shed (ended: ${JSON.stringify(ended.map((e) => e.reason))})`);
    } finally {
      b.close();
      c.destroy();
    }
    // Newest first: C, then B; A was not shed.
    const shed = ended.filter((e) => e.reason === 'shed');
    assert.deepEqual(shed.map((e) => e.viewerId), [started[2]!.viewerId, started[1]!.viewerId]);
    assert.deepEqual(shed.map((e) => e.protocol), ['http-flv', 'rtmp']);

    // With one viewer left the engine catches up: A keeps its connection and its media.
    const before = aBytes;
    assert.ok(await until(() => aBytes > before + 100_000, 30_000), 'A still receives media');
    assert.equal(aClosed, false);
    assert.ok(!ended.some((e) => e.viewerId === started[0]!.viewerId), 'A was not shed');
    assert.equal(await metricValue(h, 'onair_media_shed_viewers_total', { protocol: 'http-flv' }), 1);
    assert.equal(await metricValue(h, 'onair_media_shed_viewers_total', { protocol: 'rtmp' }), 1);

    // Never the publisher, never the internal reader.
    assert.ok(!h.events.some((e) => e.name === 'publish.ended'), 'the publisher stayed');
    assert.equal(reader.ended, false);
    const packets = reader.packets;
    assert.ok(await until(() => reader.packets > packets + 30, 20_000), 'the internal reader still reads');

    // One line when the spell starts and one when it ends, not one per viewer.
    assert.ok(await until(() => captured.lines.some((l) => String(l.msg).includes('shedding ended')), 20_000), 'the end of the spell is logged');
    assert.equal(captured.lines.filter((l) => String(l.msg).includes('shedding the newest viewers')).length, 1);
    const endLine = captured.lines.find((l) => String(l.msg).includes('shedding ended'))!;
    assert.equal(endLine.shed, 2);
    a.destroy();
  });
});
