/**
 * Headless Chromium plays a replay's MP4 from the URL GET /api/v1/replays/{id} hands out and seeks
 * in it: onair's signed URL with Range on the local folder, a presigned URL on S3 (s3rver). The
 * video must play (currentTime advances), land where it was seeked to, and fetch with Range.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { missingTool } from '../../core/testing/tools.js';
import { launchChromium, missingChromium } from '../../core/testing/chromium.js';
import { testAdapterSets } from '../../core/testing/test-ports.js';
import { testObjectStores } from '../../core/testing/test-object-stores.js';
import { probeMedia } from '../../core/ffmpeg/probe.js';
import { remuxArgs } from '../../core/ffmpeg/args.js';
import { runFfmpeg } from '../../core/ffmpeg/process.js';
import { ReplayStore } from '../../core/replays/replay.store.js';
import { segmentObjectKeys } from '../../core/replays/replay.js';
import { makeKit } from '../../control/testing/control-kit.js';
import { addSegmentedShow, joinShow, makeSegmentedRecording } from './replay-fixtures.js';

const skip = missingTool('ffmpeg') || missingChromium();
const stores = testObjectStores();
const set = testAdapterSets()[0]!;

describe('Chromium plays and seeks a replay', { skip }, () => {
  let chromium: Browser;
  let browser: BrowserContext;
  let dir: string;
  let mp4: string;
  let parts: string[];
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'onair-replay-browser-'));
    // A recording (FLV, 2 s GOP) and the same show recorded in 3 segments of 4 s (cut on keyframes,
    // timestamps from 0, as the recorder does), each remuxed.
    const recorded = await makeSegmentedRecording(dir);
    parts = recorded.parts;
    // What the transcoder makes of the recording: remuxed with its own command.
    mp4 = join(dir, 'r.mp4');
    await runFfmpeg(remuxArgs(recorded.recording, mp4));
    chromium = await launchChromium();
    browser = await chromium.newContext();
  });
  after(async () => {
    await chromium?.close();
    await Promise.all(stores.map((s) => s.close()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const factory of stores) {
    it(`from the ${factory.name} object store`, async () => {
      const objects = await factory.make();
      const kit = await makeKit(set, {}, { objects: objects.store });
      try {
        const base = await kit.listen();
        const anchor = await kit.anchorWithRoom();
        const keys = segmentObjectKeys(anchor.roomId, 'p', 0);
        const v = await objects.store.put(keys.video, { file: mp4 });
        const probe = await probeMedia(mp4);
        const { replay } = await new ReplayStore(kit.ports.db).addSegment({
          sourceEventId: 'ev-browser', roomId: anchor.roomId, sessionId: null, publisherId: 'p', segment: 0, objectKey: keys.video, posterKey: null,
          durationMs: probe.durationMs, size: v.size, md5: v.md5, videoCodec: 'h264', audioCodec: 'aac', width: 640, height: 360,
          startedAt: Date.now() - probe.durationMs, endedAt: Date.now(),
        }, (id) => `/api/v1/replays/${id}`);
        const view = await kit.http.get(`/api/v1/replays/${replay.id}`).expect(200);
        const url = view.body.playback_url.startsWith('http') ? view.body.playback_url : base + view.body.playback_url;

        const page = await browser.newPage();
        const ranges: string[] = [];
        page.on('request', (r) => { if (r.url() === url && r.headers().range) ranges.push(r.headers().range!); });
        // A blank page (no CSP of ours): only the <video> and its URL are under test.
        await page.setContent(`<video id="v" muted playsinline preload="auto" src="${url.replaceAll('&', '&amp;')}"></video>`);
        // Page scripts as strings: tsx would wrap a function's inner names in a helper the page lacks.
        const played = await page.evaluate(`(async () => {
          const v = document.getElementById('v');
          await v.play();
          await new Promise((resolve, reject) => {
            const t = setTimeout(() => reject(new Error('no progress: ' + v.currentTime + ' error ' + (v.error && v.error.message))), 20000);
            const check = () => (v.currentTime > 0.5 ? (clearTimeout(t), resolve()) : setTimeout(check, 50));
            check();
          });
          return { duration: v.duration, width: v.videoWidth };
        })()`) as { duration: number; width: number };
        assert.ok(Math.abs(played.duration - 12) < 0.5, `duration ${played.duration}`);
        assert.equal(played.width, 640);
        const seeked = await page.evaluate(`(async () => {
          const v = document.getElementById('v');
          v.pause();
          const done = new Promise((resolve, reject) => {
            const t = setTimeout(() => reject(new Error('seek did not finish')), 20000);
            v.addEventListener('seeked', () => { clearTimeout(t); resolve(); }, { once: true });
          });
          v.currentTime = 9;
          await done;
          return { at: v.currentTime, ready: v.readyState };
        })()`) as { at: number; ready: number };
        assert.ok(Math.abs(seeked.at - 9) < 0.1, `after the seek: ${seeked.at}`);
        assert.ok(seeked.ready >= 2, `frame data at the seek point (readyState ${seeked.ready})`);
        assert.ok(ranges.length >= 1, 'the browser fetched with Range');
        await page.close();
      } finally {
        await kit.close();
        await objects.close();
      }
    });
  }
  for (const factory of stores) {
    it(`a show recorded in 3 segments plays as one file and seeks across a segment boundary (${factory.name})`, async () => {
      const objects = await factory.make();
      const kit = await makeKit(set, {}, { objects: objects.store });
      try {
        const base = await kit.listen();
        const anchor = await kit.anchorWithRoom();
        const replayId = await addSegmentedShow(kit.ports.db, objects.store, { roomId: anchor.roomId, sessionId: null, parts, eventPrefix: 'ev-seg' });
        // Before the join: the player is told to play the segments in order.
        const pending = await kit.http.get(`/api/v1/replays/${replayId}`).expect(200);
        assert.equal(pending.body.playback, 'segments');
        assert.deepEqual(pending.body.segments.map((x: { offset_ms: number }) => Math.round(x.offset_ms / 1000)), [0, 4, 8]);
        // What the transcoder does once the last segment is in.
        assert.equal((await joinShow(kit.ports.db, objects.store, replayId, anchor.roomId, dir)).marked, true);

        const view = await kit.http.get(`/api/v1/replays/${replayId}`).expect(200);
        assert.equal(view.body.playback, 'file');
        assert.equal(view.body.complete, true);
        assert.ok(Math.abs(view.body.duration_ms - 12_000) < 200, `duration ${view.body.duration_ms}`);
        const url = view.body.playback_url.startsWith('http') ? view.body.playback_url : base + view.body.playback_url;
        assert.match(url, /show\.mp4/);
        const page = await browser.newPage();
        await page.setContent(`<video id="v" muted playsinline preload="auto" src="${url.replaceAll('&', '&amp;')}"></video>`);
        // Seek to just before the first boundary (4 s), play across it, then seek into the last segment.
        const result = await page.evaluate(`(async () => {
          const v = document.getElementById('v');
          const seek = (t) => new Promise((resolve, reject) => {
            const to = setTimeout(() => reject(new Error('seek to ' + t + ' did not finish')), 20000);
            v.addEventListener('seeked', () => { clearTimeout(to); resolve(); }, { once: true });
            v.currentTime = t;
          });
          await new Promise((resolve) => (v.readyState >= 1 ? resolve() : v.addEventListener('loadedmetadata', resolve, { once: true })));
          await seek(3.5);
          await v.play();
          await new Promise((resolve, reject) => {
            const t = setTimeout(() => reject(new Error('did not play across the boundary: ' + v.currentTime + ' error ' + (v.error && v.error.message))), 20000);
            const check = () => (v.currentTime > 4.6 ? (clearTimeout(t), resolve()) : setTimeout(check, 50));
            check();
          });
          const crossed = v.currentTime;
          v.pause();
          await seek(10.5);
          return { duration: v.duration, crossed, at: v.currentTime, ready: v.readyState };
        })()`) as { duration: number; crossed: number; at: number; ready: number };
        assert.ok(Math.abs(result.duration - 12) < 0.5, `duration ${result.duration}`);
        assert.ok(result.crossed > 4.6, `played across the boundary to ${result.crossed}`);
        assert.ok(Math.abs(result.at - 10.5) < 0.1, `after the seek: ${result.at}`);
        assert.ok(result.ready >= 2, `frame data at the seek point (readyState ${result.ready})`);
        await page.close();
      } finally {
        await kit.close();
        await objects.close();
      }
    });
  }
});
