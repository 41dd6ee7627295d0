/**
 * The studio's "my sessions" and the room page's replays in Chromium, on control's pages and API
 * served in-process (web/serve.ts in front of control, as onair.ts serves them):
 *   a show recorded in 3 segments (ffmpeg cuts a 12 s test pattern on keyframes, each part
 *   remuxed as the recorder's segments are) is joined into one MP4 by the transcoder's own
 *   joinSegments; the anchor's studio lists the show under "My sessions" with its figures, the
 *   replay link and the summary link (#session=ID opens the summary); the room page's replay
 *   list opens the replay, the video plays (currentTime advances) and a seek past the first
 *   segment's end (4 s) lands and has frames; the studio's replay link (/watch/{room}?replay=)
 *   plays the same replay.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, missingChromium, watchCsp } from '../../core/testing/chromium.js';
import { missingTool } from '../../core/testing/tools.js';
import { testAdapterSets } from '../../core/testing/test-ports.js';
import { testObjectStores } from '../../core/testing/test-object-stores.js';
import { waitFor } from '../../core/testing/wait-for.js';
import { makeKit } from '../../control/testing/control-kit.js';
import { addSegmentedShow, joinShow, makeSegmentedRecording } from './replay-fixtures.js';
import { servePages, signedIn } from './web-kit.js';

const skip = missingTool('ffmpeg') || missingChromium();
const shots = process.env.ONAIR_SCREENSHOTS_DIR;
/** With ONAIR_SCREENSHOTS_DIR set (npm run screenshots) the page is saved there as a PNG, from the embedded adapters' run. */
async function shot(set: string, page: Page, name: string): Promise<void> {
  if (!shots || set !== 'embedded') return;
  mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: join(shots, `${name}.png`) });
}
const local = testObjectStores().find((f) => f.name === 'local')!;

describe('Chromium: my sessions in the studio, and a joined multi-segment replay from the room page', { skip }, () => {
  let browser: Browser;
  let dir: string;
  let parts: string[];
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'onair-replay-page-'));
    ({ parts } = await makeSegmentedRecording(dir));
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const set of testAdapterSets()) {
    it(`on ${set.name}`, async () => {
      const objects = await local.make();
      const kit = await makeKit(set, {}, { objects: objects.store });
      const pages = await servePages(kit.control);
      const base = pages.base;
      const violations: string[] = [];
      try {
        // The show: live, then ended by the anchor; recorded in 3 segments, then joined.
        const anchor = await kit.anchorWithRoom('Replay show');
        const c = kit.control;
        const d = await c.hooks.authorizePublish({ app: 'live', streamKey: anchor.streamKey, query: {}, clientIp: '127.0.0.1' });
        assert.ok(d.allow);
        await c.liveSessions.markLive({ streamName: anchor.roomId, app: 'live', publisherId: 'p', sessionId: d.sessionId, clientIp: '127.0.0.1', at: Date.now() - 13_000 });
        await c.liveSessions.endSession(d.sessionId!, 1, 'anchor closed');
        const sessionId = d.sessionId!;
        const replayId = await addSegmentedShow(kit.ports.db, objects.store, { roomId: anchor.roomId, sessionId, parts, eventPrefix: 'ev-page' });
        assert.equal((await joinShow(kit.ports.db, objects.store, replayId, anchor.roomId, dir)).marked, true);

        // The anchor, signed in (the login page's storage), in the studio.
        const context = await signedIn(browser, { ...anchor, username: 'anchor', role: 'anchor' });
        const page = watchCsp(await context.newPage(), violations);
        await page.goto(`${base}/studio`);
        const row = page.locator(`#sessions-table tr[data-session-id="${sessionId}"]`);
        await row.waitFor({ timeout: 15_000 });
        await shot(set.name, page, 'studio-sessions');
        assert.equal(await row.locator('a.replay-link').getAttribute('href'), `/watch/${anchor.roomId}?replay=${replayId}`);
        assert.match((await row.locator('.duration').textContent()) ?? '', /^\d+ min$/);
        assert.match((await row.locator('.viewers').textContent()) ?? '', /peak \d+ · \d+ unique/);
        assert.equal((await row.locator('.income').textContent())?.trim(), 'income 0 (0 gifts)');
        await row.locator('a.summary-link').click();
        await page.locator(`#session-summary[data-session-id="${sessionId}"]`).waitFor({ timeout: 10_000 });

        // The room page (offline): its replay list opens the show, which plays and seeks past segment 1.
        await page.goto(`${base}/watch/${anchor.roomId}`);
        const item = page.locator(`#replay-list li[data-replay-id="${replayId}"] button.replay`);
        await item.waitFor({ timeout: 15_000 });
        await item.click();
        const result = await playAndSeek(page, replayId);
        await shot(set.name, page, 'room-replay');
        assert.equal(result.replay, replayId);
        assert.ok(Math.abs(result.duration - 12) < 0.5, `one joined file of the whole show: duration ${result.duration}`);
        assert.equal(result.segment, '0', 'one file (the joined MP4), not the segments one by one');
        assert.ok(result.played > 0.5, `played to ${result.played}`);
        assert.ok(Math.abs(result.at - 6) < 0.1, `after the seek: ${result.at}`);
        assert.ok(result.ready >= 2, `frame data past the first segment (readyState ${result.ready})`);
        assert.ok(result.after > result.at, `plays on after the seek (${result.after})`);

        // The studio's replay link plays the same replay on the room page.
        await page.goto(`${base}/watch/${anchor.roomId}?replay=${replayId}`);
        await waitFor('the linked replay plays', async () => (await page.evaluate(`(() => { const v = document.getElementById('video'); return v.dataset.replay === ${JSON.stringify(replayId)} && v.currentTime > 0.3; })()`)) as boolean, 20_000, 100);
        assert.deepEqual(violations, [], 'no Content-Security-Policy violation');
        await context.close();
      } finally {
        await pages.close();
        await kit.close();
        await objects.close();
      }
    });
  }
});

/** Waits for the page's video to play the replay, seeks to 6 s (segment 2 of 3 in the joined file) and lets it play on. */
async function playAndSeek(page: Page, replayId: string) {
  // Page scripts as strings: tsx would wrap a function's inner names in a helper the page lacks.
  return page.evaluate(`(async () => {
    const v = document.getElementById('video');
    const until = (what, ok) => new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(what + ': at ' + v.currentTime + ' error ' + (v.error && v.error.message))), 20000);
      const check = () => (ok() ? (clearTimeout(t), resolve()) : setTimeout(check, 50));
      check();
    });
    await until('the replay did not start', () => v.dataset.replay === ${JSON.stringify(replayId)} && v.currentTime > 0.5);
    const played = v.currentTime;
    v.pause();
    const seeked = new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('seek did not finish')), 20000);
      v.addEventListener('seeked', () => { clearTimeout(t); resolve(); }, { once: true });
    });
    v.currentTime = 6;
    await seeked;
    const at = v.currentTime;
    const ready = v.readyState;
    await v.play();
    await until('did not play on after the seek', () => v.currentTime > 6.5);
    return { replay: v.dataset.replay, duration: v.duration, segment: v.dataset.segment, played, at, ready, after: v.currentTime };
  })()`) as Promise<{ replay: string; duration: number; segment: string; played: number; at: number; ready: number; after: number }>;
}
