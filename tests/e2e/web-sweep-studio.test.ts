/**
 * The anchor's show from start to replay in the studio, in Chromium (playwright-core, Debian's
 * /usr/bin/chromium) against the all-in-one stack with a real ffmpeg push, as the browser sweep
 * walked it: an anchor registers, creates a room, turns recording on (there was no way to in the
 * studio, so with the default ONAIR_RECORD=false no show ever had a replay), copies the server and
 * key, pushes, sees "Live now", ends the show with *End show* (POST /live/close: there was no way to
 * end it but stopping the encoder and waiting out the reconnect grace), and without reloading sees
 * the show under "My sessions" with its replay link, which plays. OBS pushing again at once is refused
 * (the close hold), and *Go live again* lets the next push start a show.
 */
import { before, it } from 'node:test';
import assert from 'node:assert/strict';
import type { BrowserContext } from 'playwright-core';
import { textOf as text } from '../../core/testing/chromium.js';
import { publish, until } from './onair-stack.js';
import { describeWeb } from './web-kit.js';

describeWeb('web sweep: the studio, from a push to the replay', { ONAIR_RATE_LIMITS: 'false' }, (web) => {
  let context: BrowserContext;

  before(async () => {
    context = await web.context({ permissions: ['clipboard-read', 'clipboard-write'], viewport: { width: 1200, height: 900 } });
  });

  it('record, push, end the show from the studio, and play its replay', async () => {
    const page = web.watch(await context.newPage(), '/studio');
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.accept();
    });
    await page.goto(web.url('/login?next=/studio'));
    await page.fill('#register-username', `anchor_sweep_${process.pid}`);
    await page.fill('#register-password', 'correct-horse-battery');
    await page.check('#register-anchor');
    await page.click('#register-submit');
    await page.waitForURL((u) => u.pathname === '/studio');
    await page.fill('#create-title', 'Recorded show');
    await page.click('#create-submit');
    const card = page.locator('article.room');
    await card.waitFor();
    const roomId = (await card.getAttribute('data-room-id'))!;

    // Recording on, from the studio; the room says so and keeps it.
    const record = page.locator(`#record-${roomId}`);
    assert.equal(await record.isChecked(), false);
    assert.equal(await text(page, `label[for="record-${roomId}"]`), 'Record my shows (viewers can watch the replay after the show)');
    await record.check();
    await until('recording is on', async () => (await text(page, 'article.room .card-msg')) === 'Recording is on for this room.', 10_000, 200);
    await new Promise((r) => setTimeout(r, 3500)); // a studio poll later, the box is still ticked
    assert.equal(await record.isChecked(), true);
    assert.equal(await page.isVisible('article.room .end-show'), false, 'no End show while not live');

    await page.click(`#copy-server-${roomId}`);
    await until('the server was copied', async () => (await text(page, `#copy-server-${roomId}`)) === 'Copied');
    const server = (await page.evaluate('navigator.clipboard.readText()')) as string;
    await page.click(`#copy-key-${roomId}`);
    await until('the key was copied', async () => (await text(page, `#copy-key-${roomId}`)) === 'Copied');
    const key = (await page.evaluate('navigator.clipboard.readText()')) as string;
    web.track(publish(`${server}/${key}`));
    await until('the studio shows the room live', async () => (await text(page, 'article.room .state')) === 'Live now', 30_000, 300);
    await new Promise((r) => setTimeout(r, 6000)); // a few seconds of show to record

    // End show: asked first, then the studio says the room is no longer live.
    await page.locator('article.room .end-show').click();
    assert.match(dialogs.at(-1) ?? '', /^End the show now\?/);
    await until('the studio shows the room offline', async () => (await text(page, 'article.room .state')) === 'Not live', 10_000, 200);
    assert.match(await text(page, 'article.room .card-msg'), /^The show has ended\. When you want to go back on air, press "Go live again"/);
    assert.equal(await page.isVisible('article.room .end-show'), false);
    assert.equal(await page.isVisible('article.room .go-live-again'), true, 'Go live again offered after End show');
    const session = (await web.stack.call('GET', `/rooms/${roomId}`)).body;
    assert.equal(session.is_live, false);

    // My sessions lists the show with its replay, without a reload; the link plays it.
    const link = page.locator(`#sessions-table tr[data-room-id="${roomId}"] a.replay-link`);
    await until('the replay link shows', async () => (await link.count()) === 1, 20_000, 250);
    const href = (await link.getAttribute('href'))!;
    assert.match(href, new RegExp(`^/watch/${roomId}\\?replay=\\d+$`));
    const viewer = await web.open(href, context);
    await viewer.locator('#conventions-ok').click({ timeout: 2000 }).catch(() => undefined);
    await until('the replay plays', async () => ((await viewer.evaluate('document.getElementById("video").currentTime')) as number) > 1, 30_000, 300);
    assert.equal(await text(viewer, '#state'), 'OFFLINE');

    // OBS pushing again right after End show (its automatic reconnect) does not start a new show:
    // the server holds the room (ONAIR_LIVE_CLOSE_HOLD); *Go live again* lifts the hold.
    const retry = publish(`${server}/${key}`);
    web.track(retry);
    assert.notEqual(await retry.exited, 0, 'the push during the hold is refused');
    assert.equal((await web.stack.call('GET', `/rooms/${roomId}`)).body.is_live, false);
    await page.locator('article.room .go-live-again').click();
    await until('the studio says OBS can go live', async () => (await text(page, 'article.room .card-msg')) === 'Ready: start streaming in OBS to go live.', 10_000, 200);
    web.track(publish(`${server}/${key}`));
    await until('the studio shows the room live again', async () => (await text(page, 'article.room .state')) === 'Live now', 30_000, 300);
    assert.equal(await page.isVisible('article.room .go-live-again'), false, 'no Go live again while live');
    assert.deepEqual(web.violations, [], 'no Content-Security-Policy violation');
  });
});
