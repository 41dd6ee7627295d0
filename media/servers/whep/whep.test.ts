/**
 * WHEP over a real engine fed by ffmpeg over RTMP, played by werift peers (the browser test is
 * tests/e2e/webrtc-browser.test.ts): the play check comes before any media, the viewer counts and
 * play events are the shared registry's, kick drops the peer, Opus comes from one ffmpeg.
 */
import { after, before, describe, it, mock } from 'node:test';
import dns from 'node:dns';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { missingTool } from '../../../core/testing/tools.js';
import type { PlayStarted } from '../../../core/media/media-contract.js';
import { ffmpegPublish, startEngine, testConfig, testHooks, until, waitForEvent, type EngineHarness, TEST_KEY, TEST_STREAM, TEST_TOKEN } from '../../engine-test-kit.js';
import { whepPlay } from './whep-client.js';

const skip = missingTool('ffmpeg');

/** The parts of a werift viewer's ICE connection the early-hello test changes (werift 0.24.x). */
interface IceInternals {
  options: { filterStunResponse?: () => boolean };
  send(data: Buffer): Promise<void>;
}

describe('WHEP playback', { skip }, () => {
  let h: EngineHarness;
  let ffmpeg: ChildProcess;
  let loadedBeforePublish: boolean | undefined;
  const url = (q = '') => `http://127.0.0.1:${h.httpPort}/live/${TEST_STREAM}/whep${q}`;
  /** Ends a session on both sides (DELETE, then the peer): the later tests count the server's sessions. */
  const end = async (play: { location?: string; close(): Promise<void> }) => {
    await new Promise<void>((resolve) => {
      const r = request(`http://127.0.0.1:${h.httpPort}${play.location}`, { method: 'DELETE' }, (res) => {
        res.resume();
        resolve();
      });
      r.on('error', () => resolve());
      r.end();
    });
    await play.close();
    assert.ok(await until(() => h.engine.whep!.size === 0, 10_000), 'the server session is gone');
  };

  before(async () => {
    h = await startEngine({ hooks: testHooks(), config: testConfig({ webrtcWarm: true }) });
    loadedBeforePublish = h.engine.whep!.isWebrtcLoaded;
    ffmpeg = ffmpegPublish(`rtmp://127.0.0.1:${h.rtmpPort}/live/${TEST_KEY}`, { seconds: 90 });
    await waitForEvent(h, 'publish.started');
  });
  after(async () => {
    ffmpeg?.kill('SIGKILL');
    await h?.close();
  });

  it('loads and warms up WebRTC (werift) when a stream is published, before any offer; not while nothing is live', async () => {
    assert.equal(loadedBeforePublish, false, 'an engine with nothing published has not loaded it');
    assert.ok(await until(() => h.engine.whep!.isWebrtcLoaded, 20_000), 'the publish loaded it');
    assert.ok(await until(() => h.engine.whep!.isWarm, 20_000), 'the throwaway pair connected');
    assert.equal(h.engine.whep!.size, 0, 'no offer was made, and the throwaway pair is no session');
  });

  it('refuses a missing token with 401 and a forged one with 403, JSON body, no peer and no media', async () => {
    for (const [q, bearer, status] of [['', undefined, 401], ['?token=forged', undefined, 403], ['', 'forged', 403]] as const) {
      const play = await whepPlay(url(q), { bearer });
      assert.equal(play.status, status);
      assert.equal(JSON.parse(play.body).error.code, status === 401 ? 'unauthorized' : 'forbidden');
      assert.equal(await play.connected(1500), false);
      assert.equal(play.stats.videoPackets + play.stats.audioPackets, 0);
      await play.close();
    }
    assert.equal(h.engine.whep!.size, 0);
    assert.equal(h.events.filter((e) => e.name === 'play.started').length, 0);
  });

  it('plays H.264 from the keyframe and Opus, counted as a webrtc viewer, and DELETE ends it', async () => {
    const play = await whepPlay(url(), { bearer: TEST_TOKEN });
    assert.equal(play.status, 201, play.body);
    assert.equal(h.engine.whep!.isWebrtcLoaded, true, 'the offers loaded WebRTC');
    assert.match(play.location ?? '', /^\/live\/room1\/whep\/[A-Za-z0-9_-]+$/);
    assert.ok(await play.connected(10_000), 'peer connects');
    assert.ok(await until(() => play.stats.videoFrames >= 30 && play.stats.audioPackets >= 25, 10_000), `frames ${play.stats.videoFrames}, audio ${play.stats.audioPackets}`);
    assert.ok(play.stats.firstKeyframeMs >= 0 && play.stats.firstKeyframeMs <= play.stats.firstPacketMs + 1, 'the first packet is the keyframe\'s SPS');
    const started = await waitForEvent(h, 'play.started', (p) => p.protocol === 'webrtc');
    assert.equal(h.engine.streams.get(TEST_STREAM)!.viewers.webrtc, 1);
    assert.equal(h.engine.whep!.transcoders, 1);
    const metrics = await h.metrics.metrics();
    assert.match(metrics, /onair_media_viewers\{protocol="webrtc"\} 1/);
    const del = await new Promise<number>((resolve, reject) => {
      const r = request(`http://127.0.0.1:${h.httpPort}${play.location}`, { method: 'DELETE' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      r.on('error', reject);
      r.end();
    });
    assert.equal(del, 200);
    const ended = await waitForEvent(h, 'play.ended', (p) => p.viewerId === started.viewerId);
    assert.equal(ended.protocol, 'webrtc');
    assert.ok(ended.bytesOut > 0);
    assert.ok(await until(() => h.engine.streams.get(TEST_STREAM)!.viewers.webrtc === 0 && h.engine.whep!.transcoders === 0, 5000));
    await play.close();
  });

  it('asks no outside STUN server when none is configured (werift would ask Google\'s for every peer)', async () => {
    // dgram resolves every destination through dns.lookup, IP literals included: a name is a STUN server.
    const names: string[] = [];
    const original = dns.lookup as unknown as (...a: unknown[]) => unknown;
    const lookup = mock.method(dns, 'lookup', function (this: unknown, host: string, ...rest: unknown[]) {
      if (!/^[\d.]+$|:/.test(host)) names.push(host);
      return original.call(this, host, ...rest);
    });
    try {
      const play = await whepPlay(url(), { bearer: TEST_TOKEN });
      assert.equal(play.status, 201, play.body);
      assert.ok(await play.connected(10_000), 'peer connects');
      await end(play);
    } finally {
      lookup.mock.restore();
    }
    assert.deepEqual(names, []);
  });

  it('keeps a viewer\'s DTLS hello that arrives before the server\'s side of ICE is done (it is not lost)', async () => {
    // The viewer answers none of the server's ICE checks until it has sent its ClientHello, so the
    // hello reaches the server before the server can nominate a pair and start its DTLS; and it
    // never sends a DTLS record twice, so only that first hello can start the handshake.
    let helloSent = false;
    const play = await whepPlay(url(), {
      bearer: TEST_TOKEN,
      beforeOffer: (pc) => {
        const ice = (pc.getTransceivers()[0] as unknown as { dtlsTransport: { iceTransport: { connection: IceInternals } } }).dtlsTransport.iceTransport.connection;
        ice.options.filterStunResponse = () => helloSent;
        const send = ice.send;
        const sent = new Set<string>();
        ice.send = (data: Buffer) => {
          if (data[0]! >= 20 && data[0]! <= 63) {
            const key = data.toString('base64');
            if (sent.has(key)) return Promise.resolve();
            sent.add(key);
            if (data[0] === 22 && data[13] === 1) helloSent = true; // handshake record, client_hello
          }
          return send(data);
        };
      },
    });
    assert.equal(play.status, 201, play.body);
    assert.ok(await play.connected(20_000), 'the peer connects on its first hello');
    assert.ok(helloSent);
    assert.ok(await until(() => play.stats.firstKeyframeMs >= 0, 10_000), 'media follows');
    await end(play);
  });

  it('kick drops a WebRTC viewer: no more media reaches it', async () => {
    const play = await whepPlay(url(`?token=${TEST_TOKEN}`));
    assert.equal(play.status, 201, play.body);
    assert.ok(await until(() => play.stats.videoFrames >= 10, 10_000));
    const started = (h.events.filter((e) => e.name === 'play.started').map((e) => e.payload as PlayStarted)).at(-1)!;
    assert.equal(await h.engine.kickViewer(started.viewerId), true);
    const ended = await waitForEvent(h, 'play.ended', (p) => p.viewerId === started.viewerId);
    assert.equal(ended.reason, 'kicked');
    await new Promise((r) => setTimeout(r, 300));
    const frames = play.stats.videoFrames;
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(play.stats.videoFrames, frames, 'no frame after the kick');
    assert.equal(h.engine.whep!.size, 0);
    await play.close();
  });
});
