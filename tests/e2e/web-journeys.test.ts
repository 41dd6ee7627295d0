/**
 * The web product in Chromium (playwright-core driving Debian's /usr/bin/chromium) against the
 * all-in-one stack with real ffmpeg pushes, as people use it:
 *   an anchor registers, creates a room in the studio, copies the OBS server and key, pushes;
 *   a viewer opens the home page (real viewer count, the configured RTMP server), enters the room
 *   and the video plays (currentTime advances); the encoder drops and comes back and the player
 *   resumes by itself; an operator sees the room on the supervision wall with a fresh frame and
 *   force closes it, and the viewer's page says "ended"; /watch/999 says there is no such room.
 * With ONAIR_SCREENSHOTS_DIR set (npm run screenshots) every page is saved there as a PNG.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { missingTool } from '../../core/testing/tools.js';
import { launchChromium, missingChromium, watchCsp } from '../../core/testing/chromium.js';
import { publish, stackAdapterSets, startStack, until, type Stack } from './onair-stack.js';

const skip = missingTool('ffmpeg') || missingChromium();
const shots = process.env.ONAIR_SCREENSHOTS_DIR;
const OPERATOR = { username: 'ops_web', password: 'correct-horse-battery-ops' };
const PASSWORD = 'correct-horse-battery';

type Pusher = ReturnType<typeof publish>;

for (const adapters of skip ? [] : stackAdapterSets()) {
  describe(`web journeys (${adapters.name})`, () => {
    let stack: Stack;
    let cleanup: () => Promise<void>;
    let chromium: Browser;
    let browser: BrowserContext;
    let pusher: Pusher | undefined;
    const violations: string[] = [];
    const state: { roomId?: string; server?: string; key?: string; viewer?: Page } = {};

    before(async () => {
      const env = await adapters.env();
      cleanup = env.cleanup;
      stack = await startStack({
        ...env.env, ONAIR_ADMIN_USER: OPERATOR.username, ONAIR_ADMIN_PASSWORD: OPERATOR.password, ONAIR_RECONNECT_GRACE: '60s',
        ONAIR_RATE_LIMITS: 'false',
      });
      chromium = await launchChromium();
      browser = await chromium.newContext({ locale: 'en-US', permissions: ['clipboard-read', 'clipboard-write'], viewport: { width: 1200, height: 800 } });
      if (shots) mkdirSync(shots, { recursive: true });
    });

    after(async () => {
      pusher?.kill('SIGKILL');
      await chromium?.close();
      await stack?.close();
      await cleanup?.();
    });

    async function open(path: string, page?: Page): Promise<Page> {
      const p = watchCsp(page ?? (await browser.newPage()), violations, path);
      await p.goto(`http://127.0.0.1:${stack.httpPort}${path}`);
      return p;
    }

    async function shot(page: Page, name: string): Promise<void> {
      if (shots && adapters.name === 'embedded') await page.screenshot({ path: join(shots, `${name}.png`) });
    }

    /** Seconds the room page's video advanced over a few seconds of watching (0 when it did not). */
    async function progress(page: Page, seconds = 3): Promise<number> {
      const t0 = (await page.evaluate('document.getElementById("video").currentTime')) as number;
      await new Promise((r) => setTimeout(r, seconds * 1000));
      const t1 = (await page.evaluate('document.getElementById("video").currentTime')) as number;
      return t1 - t0;
    }

    async function playing(page: Page, what: string): Promise<void> {
      await until(what, async () => (await progress(page, 1.5)) > 0.5, 45_000, 500);
    }

    it('an anchor registers, creates a room in the studio and copies the OBS server and key', async () => {
      const page = await open('/login?next=/studio');
      await shot(page, 'login');
      await page.fill('#register-username', `anchor_web_${process.pid}`);
      await page.fill('#register-password', PASSWORD);
      await page.check('#register-anchor');
      await page.click('#register-submit');
      await page.waitForURL((u) => u.pathname === '/studio');
      await page.fill('#create-title', 'Web journey show');
      await page.click('#create-submit');
      const card = page.locator('article.room');
      await card.waitFor();
      state.roomId = (await card.getAttribute('data-room-id'))!;
      assert.match(state.roomId, /^\d+$/);
      assert.equal(await page.textContent(`article.room .key`), '••••••••••••', 'the key is hidden until revealed');
      await page.click(`#copy-server-${state.roomId}`);
      await until('the server was copied', async () => (await page.textContent(`#copy-server-${state.roomId}`)) === 'Copied');
      state.server = (await page.evaluate('navigator.clipboard.readText()')) as string;
      assert.equal(state.server, `rtmp://127.0.0.1:${stack.rtmpPort}/live`, 'the OBS server names the real RTMP port');
      await page.click(`#copy-key-${state.roomId}`);
      await until('the key was copied', async () => (await page.textContent(`#copy-key-${state.roomId}`)) === 'Copied');
      state.key = (await page.evaluate('navigator.clipboard.readText()')) as string;
      assert.match(state.key, /^sk_\S{16,}$/, `the clipboard holds the key: ${state.key}`);
      const owner = await stack.call('GET', `/rooms/${state.roomId}`);
      assert.equal(owner.status, 200);

      pusher = publish(`${state.server}/${state.key}`);
      await until('the studio shows the room live with ingest figures', async () =>
        /fps/.test((await page.textContent('article.room .ingest')) ?? ''), 30_000, 500).catch(async (err: Error) => {
        throw new Error(`${err.message}; ffmpeg said: ${pusher?.errors()}; page: ${await page.textContent('article.room')}`);
      });
      assert.equal(await page.textContent('article.room .state'), 'Live now');
      await until('the keyframe interval is measured', async () => /keyframe every 2\.0 s/.test((await page.textContent('article.room .ingest')) ?? ''), 15_000, 500);
      assert.equal(await page.isVisible('article.room .kf-warn'), false, 'a 2 s keyframe interval raises no warning');
      await until('the studio shows the gift income (none yet)', async () =>
        (await page.textContent('#income')) === 'Gift income, last 30 days: 0 (0 gifts)', 10_000, 250);
      await page.click(`article.room .reveal`);
      await until('the key is revealed', async () => (await page.textContent('article.room .key')) === state.key);
      await page.click(`article.room .reveal`);
      await shot(page, 'studio');
      await page.close();
    });

    it('a viewer finds the room on the home page (real viewer count, real RTMP server) and watches it', async () => {
      const home = await open('/');
      const card = home.locator(`li[data-room-id="${state.roomId}"]`);
      await card.waitFor({ timeout: 15_000 });
      assert.match((await home.textContent('#howto-2')) ?? '', new RegExp(`rtmp://127\\.0\\.0\\.1:${stack.rtmpPort}/live`));
      assert.doesNotMatch((await home.textContent('.howto')) ?? '', /:1935\//);
      await card.locator('a').click();
      await home.waitForURL(`**/watch/${state.roomId}`);
      await playing(home, 'the room page plays');
      assert.equal(await home.getAttribute('#state', 'data-state'), 'live');
      await until('the status says playing', async () => /playing \((WebRTC|HTTP-FLV)\)/.test((await home.textContent('#status')) ?? ''), 10_000, 250);
      // The picture is ffmpeg's test pattern (testsrc2: coloured bars and gradients), not a black or frozen frame.
      const colours = (await home.evaluate(`(() => {
        const v = document.getElementById('video');
        const c = document.createElement('canvas');
        c.width = 64; c.height = 36;
        const g = c.getContext('2d');
        g.drawImage(v, 0, 0, 64, 36);
        const d = g.getImageData(0, 0, 64, 36).data;
        const seen = new Set();
        for (let i = 0; i < d.length; i += 4) seen.add((d[i] >> 5) + ',' + (d[i + 1] >> 5) + ',' + (d[i + 2] >> 5));
        return seen.size;
      })()`)) as number;
      assert.ok(colours >= 12, `the video shows the test pattern's colours (${colours} colour buckets in a 64x36 sample)`);
      state.viewer = home;
      // The home page counts this viewer: the API says `viewers` and the card shows it.
      const other = await open('/');
      await until('the card shows 1 watching', async () => {
        await other.reload();
        await other.locator(`li[data-room-id="${state.roomId}"]`).waitFor({ timeout: 10_000 });
        return ((await other.textContent(`li[data-room-id="${state.roomId}"] .viewers`)) ?? '') === '1 watching';
      }, 40_000, 2_000);
      await until('the card shows a frame of the show', async () =>
        (await other.evaluate(`document.querySelector('li[data-room-id="${state.roomId}"] img.cover')?.naturalWidth ?? 0`)) as number > 0,
      20_000, 1_000);
      await shot(other, 'home');
      await other.close();
      await shot(home, 'room');
    });

    it('the encoder drops and comes back: the player resumes by itself', async () => {
      const page = state.viewer!;
      pusher!.kill('SIGKILL');
      await pusher!.exited;
      await until('the page notices the stream stopped', async () => (await progress(page, 1)) === 0, 20_000, 500);
      await new Promise((r) => setTimeout(r, 3000));
      pusher = publish(`${state.server}/${state.key}`);
      await playing(page, 'the player resumes after the encoder returned');
      assert.equal(await page.getAttribute('#state', 'data-state'), 'live');
    });

    it('an operator sees the room on the supervision wall with a fresh frame and force closes it; the viewer sees "ended"', async () => {
      const page = await open('/login?next=/admin');
      await page.fill('#login-username', OPERATOR.username);
      await page.fill('#login-password', OPERATOR.password);
      await page.click('#login-submit');
      await page.waitForURL((u) => u.pathname === '/admin');
      await until('the overview fills in its rates on the next refresh', async () =>
        /%$/.test((await page.textContent('#fig-cpu strong').catch(() => '')) ?? ''), 15_000, 500);
      assert.equal(await page.textContent('#fig-streams strong'), '1');
      await shot(page, 'admin-overview');
      await page.goto(`http://127.0.0.1:${stack.httpPort}/admin#wall`);
      const tile = page.locator(`article.tile[data-room-id="${state.roomId}"]`);
      await tile.waitFor({ timeout: 15_000 }).catch(async (err: Error) => {
        throw new Error(`${err.message}; panel: ${await page.textContent('#panel')}; error: ${await page.textContent('#admin-error')}; wall API: ${JSON.stringify((await stack.call('GET', '/rooms?live=1')).body)}`);
      });
      await until('the wall shows a frame of the show', async () =>
        (await page.evaluate(`document.querySelector('article.tile[data-room-id="${state.roomId}"] img.frame')?.naturalWidth ?? 0`)) as number > 0,
      20_000, 1_000);
      const first = (await page.getAttribute(`article.tile[data-room-id="${state.roomId}"] img.frame`, 'src'))!;
      await until('the frame refreshes by itself', async () =>
        (await page.getAttribute(`article.tile[data-room-id="${state.roomId}"] img.frame`, 'src')) !== first, 15_000, 500);
      assert.match((await tile.textContent()) ?? '', /fps/);
      await shot(page, 'admin-wall');
      page.once('dialog', (d) => void d.accept('breaking the rules'));
      await tile.locator('button.force-close').click();
      await until('the room leaves the wall', async () => (await page.locator(`article.tile[data-room-id="${state.roomId}"]`).count()) === 0,
        15_000, 500);
      const viewer = state.viewer!;
      await until('the viewer sees "ended"', async () => (await viewer.getAttribute('#state', 'data-state')) === 'ended', 15_000, 500);
      assert.equal(await viewer.textContent('#state'), 'ENDED');
      await shot(viewer, 'room-ended');

      // The other panels render from their APIs.
      await page.goto(`http://127.0.0.1:${stack.httpPort}/admin#rooms`);
      await page.locator(`#rooms-table tr[data-room-id="${state.roomId}"]`).waitFor();
      await shot(page, 'admin-rooms');
      await page.goto(`http://127.0.0.1:${stack.httpPort}/admin#users`);
      await page.locator('#users-table tr').first().waitFor();
      await shot(page, 'admin-users');
      await page.goto(`http://127.0.0.1:${stack.httpPort}/admin#conventions`);
      await page.fill('#conventions-text', 'Be kind to each other.\n\nNo ads, no gambling.');
      await page.click('#conventions-save');
      await until('saved', async () => (await page.textContent('#conventions-saved')) === 'Saved');
      await shot(page, 'admin-conventions');
      await page.goto(`http://127.0.0.1:${stack.httpPort}/admin#audits`);
      await until('the audits panel', async () => /No audit verdicts\./.test((await page.textContent('#panel')) ?? ''));
      await page.goto(`http://127.0.0.1:${stack.httpPort}/admin#pending`);
      await until('the pending bans panel', async () => /Nothing waits for a decision\./.test((await page.textContent('#panel')) ?? ''));
      assert.equal(await page.textContent('#admin-error'), '', 'no panel failed');
      await page.close();
    });

    it('a room page shows the conventions on entry, and /watch/999 says there is no such room', async () => {
      const page = await open(`/watch/${state.roomId}`);
      await page.locator('#conventions[open]').waitFor({ timeout: 10_000 });
      assert.match((await page.textContent('#conventions-body')) ?? '', /No ads, no gambling\./);
      await shot(page, 'room-conventions');
      await page.click('#conventions-ok');
      await until('the room is offline/ended', async () => (await page.getAttribute('#state', 'data-state')) === 'offline');
      const missing = await open('/watch/999', page);
      await until('no such room', async () => (await missing.getAttribute('#state', 'data-state')) === 'noroom');
      assert.equal(await missing.textContent('#title'), 'There is no such room.');
      await page.close();
    });

    it('the studio warns when keyframes come too rarely (an OBS-style long GOP)', async () => {
      const page = await open('/login?next=%2Fstudio');
      await page.fill('#login-username', `anchor_web_${process.pid}`);
      await page.fill('#login-password', PASSWORD);
      await page.click('#login-submit');
      await page.waitForURL((u) => u.pathname === '/studio');
      await page.fill('#create-title', 'Long GOP');
      await page.click('#create-submit');
      const card = page.locator('article.room', { hasText: 'Long GOP' });
      await card.waitFor();
      const roomId = (await card.getAttribute('data-room-id'))!;
      const key = (await stack.call('GET', `/rooms/${roomId}/stream-key`, undefined, (await stack.call('POST', '/auth/login', {
        username: `anchor_web_${process.pid}`, password: PASSWORD,
      })).body.token)).body.stream_key as string;
      // 15 fps with a keyframe every 6 s: two keyframes arrive within the wait.
      const longGop = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=15',
        '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '90', '-keyint_min', '90', '-sc_threshold', '0', '-f', 'flv', `${state.server}/${key}`], { stdio: 'ignore' });
      try {
        await until('the keyframe warning', async () => card.locator('.kf-warn').isVisible(), 30_000, 500);
        assert.match((await card.locator('.kf-warn').textContent()) ?? '', /Keyframe interval is 6\.0 s/);
        await shot(page, 'studio-keyframe-warning');
      } finally {
        longGop.kill('SIGKILL');
        await page.close();
      }
    });

    it('works on a phone-sized viewport and in Chinese', async () => {
      const page = await browser.newPage();
      await page.setViewportSize({ width: 390, height: 844 });
      for (const path of ['/', `/watch/${state.roomId}`, '/login', '/studio', '/admin']) {
        await open(path, page);
        await page.waitForLoadState('networkidle').catch(() => undefined);
        const overflow = (await page.evaluate('document.documentElement.scrollWidth - window.innerWidth')) as number;
        assert.ok(overflow <= 0, `${path} scrolls sideways on a phone (${overflow} px)`);
      }
      await open('/', page);
      await page.click('#lang');
      await page.waitForLoadState('load');
      await until('Chinese', async () => (await page.textContent('h2')) === '正在直播');
      await shot(page, 'home-phone-zh');
      await page.evaluate("localStorage.removeItem('onair.lang')");
      await page.close();
    });

    it('no page broke its Content-Security-Policy', () => {
      assert.deepEqual(violations, []);
    });
  });
}
