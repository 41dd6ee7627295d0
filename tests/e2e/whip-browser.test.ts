/**
 * WHIP ingest from headless Chromium (Debian's, fake camera and microphone) into a real
 * MediaEngine: the publish is played back over HTTP-FLV and RTMP with ffprobe (H.264 + AAC);
 * a missing or forged key (or another room's) is refused with 401/403 before any peer exists;
 * a VP8-only offer gets 415; DELETE and kickPublisher end the publish.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import type { PublishEnded, PublishStarted, RecordDone } from '../../core/media/media-contract.js';
import { whepPlay } from '../../media/servers/whep/whep-client.js';
import { until } from '../../media/engine-test-kit.js';
import { missingTool } from '../../core/testing/tools.js';
import { launchChromium, missingChromium } from '../../core/testing/chromium.js';
import { ffprobe, startTestEngine, waitFor, type TestEngine } from './media-fixtures.js';

const skip = missingTool('ffmpeg') || missingChromium();

/** Runs in the page: WHIP-publishes the fake camera and microphone; returns the POST's answer. */
const PUBLISH = (url: string, key: string | null, videoCodec: string) => `(async () => {
  const media = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 360, frameRate: 30 }, audio: true });
  const pc = new RTCPeerConnection();
  for (const track of media.getTracks()) {
    const tr = pc.addTransceiver(track, { direction: 'sendonly' });
    if (track.kind === 'video') {
      const codecs = RTCRtpSender.getCapabilities('video').codecs;
      tr.setCodecPreferences(codecs.filter((c) => c.mimeType === ${JSON.stringify(videoCodec)}));
    }
  }
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') return resolve();
    pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && resolve());
    setTimeout(resolve, 2000);
  });
  const headers = { 'Content-Type': 'application/sdp' };
  if (${JSON.stringify(key)} !== null) headers.Authorization = 'Bearer ' + ${JSON.stringify(key)};
  const r = await fetch(${JSON.stringify(url)}, { method: 'POST', headers, body: pc.localDescription.sdp });
  const body = await r.text();
  if (r.status === 201) {
    await pc.setRemoteDescription({ type: 'answer', sdp: body });
    window.whip = { pc, location: r.headers.get('Location') };
  } else {
    pc.close();
    media.getTracks().forEach((t) => t.stop());
  }
  return { status: r.status, body: r.status === 201 ? '' : body, location: r.headers.get('Location') };
})()`;

interface Answer { status: number; body: string; location: string | null }

describe('WHIP ingest from Chromium', { skip }, () => {
  let media: TestEngine;
  let browser: Browser;

  before(async () => {
    media = await startTestEngine();
    browser = await launchChromium({ args: ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'] });
  });

  after(async () => {
    await browser?.close();
    await media?.close();
  });

  const started = (room: string) => media.events.filter((e) => e.name === 'publish.started' && (e.payload as PublishStarted).streamName === room);
  const ended = (room: string) => media.events.filter((e) => e.name === 'publish.ended' && (e.payload as PublishEnded).streamName === room).map((e) => e.payload as PublishEnded);

  async function publish(room: string, key: string | null, videoCodec = 'video/H264'): Promise<{ page: Page; answer: Answer }> {
    const page = await browser.newPage();
    await page.goto(`${media.httpBase}/test-player.html`);
    const answer = (await page.evaluate(PUBLISH(`/live/${room}/whip`, key, videoCodec))) as Answer;
    return { page, answer };
  }

  it('refuses a missing key (401), a forged or another room\'s key (403) and a VP8-only offer (415), with no peer and no media', async () => {
    const cases: [string, string | null, string, number, string][] = [
      ['3201', null, 'video/H264', 401, 'unauthorized'],
      ['3201', 'sk_forged', 'video/H264', 403, 'forbidden'],
      ['3201', 'sk_3202', 'video/H264', 403, 'forbidden'],
      ['3201', 'sk_3201', 'video/VP8', 415, 'unsupported_media_type'],
    ];
    for (const [room, key, codec, status, code] of cases) {
      const { page, answer } = await publish(room, key, codec);
      try {
        assert.equal(answer.status, status, `${key} ${codec}: ${answer.body}`);
        assert.equal(JSON.parse(answer.body).error.code, code);
        assert.equal(answer.location, null);
      } finally {
        await page.close();
      }
    }
    assert.equal(media.engine.whip!.size, 0, 'no peer');
    assert.equal(media.engine.streams.size, 0, 'no stream');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(media.events.filter((e) => e.name === 'publish.started').length, 0);
  });

  it('publishes H.264 + Opus: HTTP-FLV, RTMP and HLS play it as h264 + aac, WHEP plays it back, it is recorded; DELETE ends the publish', async () => {
    const { page, answer } = await publish('3201', 'sk_rec_3201');
    try {
      assert.equal(answer.status, 201, answer.body);
      assert.match(answer.location ?? '', /^\/live\/3201\/whip\/[A-Za-z0-9_-]+$/);
      await waitFor('publish.started', () => started('3201').length === 1, 20_000);
      const info = started('3201')[0]!.payload as PublishStarted;
      assert.equal(info.video?.codec, 'H264');
      assert.equal(info.audio?.codec, 'AAC');
      const hls = `${media.httpBase}/live/3201/index.m3u8?token=good`;
      await waitFor('the HLS playlist', async () => (await fetch(hls)).status === 200, 20_000);
      for (const url of [`${media.httpBase}/live/3201.flv?token=good`, `${media.rtmpBase}/3201?token=good`, hls]) {
        const streams = await ffprobe(url, 30_000);
        const kinds = streams.map((s) => `${s.codec_type}:${s.codec_name}`).sort();
        assert.deepEqual(kinds, ['audio:aac', 'video:h264'], url);
        assert.ok(streams.find((s) => s.codec_type === 'video')!.width! > 0);
      }
      const whep = await whepPlay(`${media.httpBase}/live/3201/whep?token=good`);
      try {
        assert.equal(whep.status, 201, whep.body);
        assert.ok(await until(() => whep.stats.videoFrames >= 20 && whep.stats.audioPackets >= 20, 15_000), JSON.stringify(whep.stats));
      } finally {
        await whep.close();
      }
      const stream = media.engine.streams.get('3201')!;
      assert.ok(stream.videoFrames > 30 && stream.audioFrames > 30, `frames: video ${stream.videoFrames}, audio ${stream.audioFrames}`);
      // The browser is asked for a keyframe every 2 s (it sends none unasked): HLS segments and the GOP cache need them.
      assert.ok(stream.keyframeIntervalMs > 0 && stream.keyframeIntervalMs <= 4000, `keyframe interval ${stream.keyframeIntervalMs} ms`);
      const status = (await page.evaluate(`fetch(window.whip.location, { method: 'DELETE' }).then((r) => r.status)`)) as number;
      assert.equal(status, 200);
      await waitFor('publish.ended', () => ended('3201').length === 1);
      assert.equal(ended('3201')[0]!.reason, 'unpublished');
      await waitFor('record.done', () => media.events.some((e) => e.name === 'record.done' && (e.payload as RecordDone).streamName === '3201'), 20_000);
      assert.equal(media.engine.whip!.size, 0);
    } finally {
      await page.close();
    }
  });

  it('kickPublisher drops a WHIP publisher: publish.ended kicked, the peer closed', async () => {
    const { page, answer } = await publish('3203', 'sk_3203');
    try {
      assert.equal(answer.status, 201, answer.body);
      await waitFor('publish.started', () => started('3203').length === 1, 20_000);
      assert.equal(await media.engine.kickPublisher('3203'), true);
      await waitFor('publish.ended', () => ended('3203').length === 1);
      assert.equal(ended('3203')[0]!.reason, 'kicked');
      assert.equal(media.engine.whip!.size, 0);
      assert.equal(media.engine.streams.get('3203'), undefined);
    } finally {
      await page.close();
    }
  });
});
