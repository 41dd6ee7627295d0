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
import { chromium, type BrowserContext } from 'playwright-core';
import { missingTool } from '../../core/testing/tools.js';
import { testAdapterSets } from '../../core/testing/test-ports.js';
import { testObjectStores } from '../../core/testing/test-object-stores.js';
import { makeTestMedia } from '../../core/ffmpeg/test-media.js';
import { probeMedia } from '../../core/ffmpeg/probe.js';
import { remuxArgs } from '../../core/ffmpeg/args.js';
import { runFfmpeg } from '../../core/ffmpeg/process.js';
import { ReplayStore } from '../../core/replays/replay.store.js';
import { segmentObjectKeys } from '../../core/replays/replay.js';
import { makeKit } from '../../control/testing/control-kit.js';

const skip = missingTool('ffmpeg') || missingTool('chromium', '--version');
const stores = testObjectStores();
const set = testAdapterSets()[0]!;

describe('Chromium plays and seeks a replay', { skip }, () => {
  let browser: BrowserContext;
  let dir: string;
  let mp4: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'onair-replay-browser-'));
    // What the transcoder makes: a recording (FLV, 2 s GOP) remuxed with its own command.
    await makeTestMedia(join(dir, 'rec.flv'), { seconds: 12, width: 640, height: 360, gopSeconds: 2 });
    mp4 = join(dir, 'r.mp4');
    await runFfmpeg(remuxArgs(join(dir, 'rec.flv'), mp4));
    browser = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: '/usr/bin/chromium', headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'],
    });
  });
  after(async () => {
    await browser?.close();
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
});
