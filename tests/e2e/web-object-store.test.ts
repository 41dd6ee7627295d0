/**
 * The room page plays a replay stored on S3/MinIO (s3rver on loopback) in Chromium under the
 * pages' real Content-Security-Policy: the poster and the video are presigned URLs on the object
 * store's origin, which the CSP must allow (objectStoreOrigin(config.s3.target)), and a show
 * recorded in two segments plays them in order (the second starts when the first ends).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { missingTool } from '../../core/testing/tools.js';
import { launchChromium, missingChromium, watchCsp } from '../../core/testing/chromium.js';
import { testAdapterSets } from '../../core/testing/test-ports.js';
import { startTestS3Server, type TestS3Server } from '../../core/testing/s3-test-server.js';
import { parseS3Url } from '../../core/config/s3-url.js';
import { MinioObjectStore } from '../../core/object-store/minio-object-store.js';
import { objectStoreOrigin } from '../../core/http/security-headers.js';
import { makeTestMedia } from '../../core/ffmpeg/test-media.js';
import { probeMedia } from '../../core/ffmpeg/probe.js';
import { posterArgs, remuxArgs } from '../../core/ffmpeg/args.js';
import { runFfmpeg } from '../../core/ffmpeg/process.js';
import { ReplayStore } from '../../core/replays/replay.store.js';
import { segmentObjectKeys } from '../../core/replays/replay.js';
import { makeKit } from '../../control/testing/control-kit.js';
import { createWebHandler } from '../../web/serve.js';
import { until } from './onair-stack.js';

const skip = missingTool('ffmpeg') || missingChromium();

for (const set of skip ? [] : testAdapterSets()) {
  describe(`the room page plays an object-store replay under its CSP (${set.name})`, () => {
    let browser: Browser;
    let s3: TestS3Server;
    let dir: string;
    const mp4s: string[] = [];
    let poster: string;

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'onair-web-s3-'));
      // Two segments told apart by their size: 320x180 then 480x270, 3 s each.
      for (const [i, [w, hgt]] of [[320, 180], [480, 270]].entries()) {
        await makeTestMedia(join(dir, `rec${i}.flv`), { seconds: 3, width: w, height: hgt, gopSeconds: 1 });
        mp4s.push(join(dir, `r${i}.mp4`));
        await runFfmpeg(remuxArgs(join(dir, `rec${i}.flv`), mp4s[i]!));
      }
      poster = join(dir, 'poster.jpg');
      await runFfmpeg(posterArgs(mp4s[0]!, poster, 1));
      s3 = await startTestS3Server();
      browser = await launchChromium();
    });
    after(async () => {
      await browser?.close();
      await s3?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('poster and both segments load from the store, in order, with no CSP violation', async () => {
      const target = parseS3Url(s3.url(`t-${randomBytes(6).toString('hex')}`));
      const objects = new MinioObjectStore({ target });
      const kit = await makeKit(set, {}, { objects });
      const web = createWebHandler({ mediaOrigins: [objectStoreOrigin(target)!] });
      const server: Server = createServer((req, res) => web(req, res, () => kit.control.handle(req, res)));
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      try {
        const anchor = await kit.anchorWithRoom('Segmented show');
        const store = new ReplayStore(kit.ports.db);
        let started = Date.now() - 60_000;
        let replayId = '';
        for (const [i, file] of mp4s.entries()) {
          const keys = segmentObjectKeys(anchor.roomId, 'p', i);
          const v = await objects.put(keys.video, { file });
          if (i === 0) await objects.put(keys.poster, { file: poster });
          const probe = await probeMedia(file);
          const { replay } = await store.addSegment({
            sourceEventId: `ev-web-${i}`, roomId: anchor.roomId, sessionId: null, publisherId: 'p', segment: i, objectKey: keys.video,
            posterKey: i === 0 ? keys.poster : null, durationMs: probe.durationMs, size: v.size, md5: v.md5, videoCodec: 'h264', audioCodec: 'aac',
            width: probe.video?.width ?? 0, height: probe.video?.height ?? 0, startedAt: started, endedAt: started + probe.durationMs,
          }, (id) => `/api/v1/replays/${id}`);
          started += probe.durationMs + 1000;
          replayId = replay.id;
        }
        const view = await kit.http.get(`/api/v1/replays/${replayId}`).expect(200);
        assert.equal(view.body.segments.length, 2);
        assert.equal(view.body.playback, 'segments', 'not joined: the page plays the segments in order');
        assert.equal(new URL(view.body.segments[0].url).origin, objectStoreOrigin(target), 'presigned on the store, not this origin');

        const violations: string[] = [];
        const page = watchCsp(await browser.newPage({ locale: 'en-US' }), violations);
        await page.goto(`${base}/watch/${anchor.roomId}`);
        const item = page.locator(`#replay-list li[data-replay-id="${replayId}"]`);
        await item.waitFor({ timeout: 15_000 });
        await until('the poster from the store is shown', async () =>
          (await page.evaluate(`document.querySelector('#replay-list img.poster')?.naturalWidth ?? 0`)) as number > 0, 10_000, 200);
        await item.locator('button.replay').click();
        await until('the first segment plays', async () =>
          (await page.evaluate(`(() => { const v = document.getElementById('video'); return v.dataset.segment === '0' && v.videoWidth === 320 && v.currentTime > 0.5; })()`)) as boolean,
        15_000, 100);
        await until('the second segment follows by itself', async () =>
          (await page.evaluate(`(() => { const v = document.getElementById('video'); return v.dataset.segment === '1' && v.videoWidth === 480 && v.currentTime > 0.5; })()`)) as boolean,
        20_000, 100);
        assert.match((await page.textContent('#status')) ?? '', /part 2 of 2/);
        assert.deepEqual(violations, [], 'no Content-Security-Policy violation');
        await page.close();
      } finally {
        await new Promise((r) => server.close(r));
        await kit.close();
        await objects.close();
      }
    });
  });
}
