/**
 * The personal center on a slow network (playwright route delays), in Chromium (playwright-core,
 * Debian's /usr/bin/chromium) against the all-in-one stack with sandbox payments, at a phone's
 * size, as the browser sweep used it:
 *   - a viewer opened the wallet and, while it loaded, the History tab: the wallet drew itself over
 *     the History tab when its answers came; now a panel that is no longer chosen draws nothing;
 *   - a double click on *Recharge* made two orders (the sandbox paid both: 200 coins for a
 *     100-coin recharge); now one click, one order;
 *   - a followed anchor going live was announced as "#3 is live now" (the notification carries ids
 *     only): now with the anchor's name and the room's title.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext } from 'playwright-core';
import type { ChildProcess } from 'node:child_process';
import { missingTool } from '../../core/testing/tools.js';
import { missingChromium, launchChromium, textOf as text, watchCsp } from '../../core/testing/chromium.js';
import { stackAdapterSets, startStack, until, type Stack } from './onair-stack.js';
import { moneyEnv, publishLight } from './gifts-kit.js';

const skip = missingTool('ffmpeg') || missingChromium();
const PASSWORD = 'correct-horse-battery';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const adapters of skip ? [] : stackAdapterSets()) {
  describe(`web sweep: the personal center on a slow network (${adapters.name})`, () => {
    let stack: Stack;
    let cleanup: () => Promise<void>;
    let browser: Browser;
    let context: BrowserContext;
    let pusher: ChildProcess | undefined;
    const violations: string[] = [];

    before(async () => {
      const env = await adapters.env();
      cleanup = env.cleanup;
      stack = await startStack({ ...env.env, ...moneyEnv });
      browser = await launchChromium();
      context = await browser.newContext({ locale: 'en-US', viewport: { width: 375, height: 667 }, isMobile: true, hasTouch: true });
    });

    after(async () => {
      pusher?.kill('SIGKILL');
      await context?.close().catch(() => undefined);
      await browser?.close();
      await stack?.close();
      await cleanup?.();
    });

    it('a slow wallet does not draw over another tab, and a double click recharges once', async () => {
      const username = `sweep_me_${process.pid}`;
      assert.equal((await stack.call('POST', '/auth/register', { username, password: PASSWORD, role: 'viewer' })).status, 201);
      const p = watchCsp(await context.newPage(), violations, '/me');
      await p.goto(`http://127.0.0.1:${stack.httpPort}/login?next=/me`);
      await p.fill('#login-username', username);
      await p.fill('#login-password', PASSWORD);
      await p.click('#login-submit');
      await p.waitForURL((u) => u.pathname === '/me');

      // The wallet's answers take 2 s; the viewer moves on to History meanwhile.
      await context.route('**/api/v1/wallet**', async (route) => {
        await sleep(2000);
        await route.continue().catch(() => undefined);
      });
      await p.evaluate('location.hash = "wallet"');
      await sleep(300);
      await p.evaluate('location.hash = "history"');
      await until('History shows', async () => (await text(p, '#panel')) === 'You have not watched anything yet.', 10_000, 100);
      await sleep(3500); // the wallet's answers have come by now
      assert.equal(await text(p, '#panel'), 'You have not watched anything yet.', 'the History tab keeps its panel');
      assert.equal(await p.locator('#wallet-balance').count(), 0);

      // Recharge: the order takes 2 s to answer; the viewer clicks twice.
      await p.evaluate('location.hash = "wallet"');
      await p.locator('#recharge-submit').waitFor({ timeout: 15_000 });
      assert.equal(await text(p, '#wallet-balance'), '0');
      await p.fill('#recharge-coins', '100');
      await p.click('#recharge-submit');
      await p.click('#recharge-submit', { timeout: 2000 }).catch(() => undefined); // disabled: the click may not even land
      await until('the recharge is said', async () => (await text(p, '#recharge-msg')) === '100 coins added.', 30_000, 200);
      await sleep(3000); // a second order, had there been one, would have answered by now
      const login = await stack.call('POST', '/auth/login', { username, password: PASSWORD });
      const orders = await stack.call('GET', '/wallet/recharges?limit=20', undefined, login.body.token);
      assert.equal(orders.body.orders.length, 1, `one order: ${JSON.stringify(orders.body.orders)}`);
      assert.equal((await stack.call('GET', '/wallet', undefined, login.body.token)).body.balance, 100);
      assert.deepEqual(violations, [], 'no Content-Security-Policy violation');
    });

    it('a followed anchor going live is announced by name, with the room\'s title', async () => {
      await context.unrouteAll();
      const anchorName = `sweep_anchor_${process.pid}`;
      const anchor = await stack.user('anchor', anchorName);
      const room = await stack.call('POST', '/rooms', { title: 'Evening show' }, anchor.token);
      const fanName = `sweep_fan_${process.pid}`;
      const fan = await stack.user('viewer', fanName);
      assert.equal((await stack.call('POST', `/rooms/${room.body.id}/follow`, undefined, fan.token)).status, 200);
      const start = await stack.call('POST', '/live/start', { room_id: room.body.id }, anchor.token);
      pusher = publishLight(stack.fixPort(start.body.push_url));
      await until('the notification exists', async () => (await stack.call('GET', '/notifications', undefined, fan.token)).body.notifications?.length === 1, 30_000, 200);

      const fanContext = await browser.newContext({ locale: 'en-US', viewport: { width: 375, height: 667 } });
      const me = await fanContext.newPage();
      await me.goto(`http://127.0.0.1:${stack.httpPort}/login?next=/me`);
      await me.fill('#login-username', fanName);
      await me.fill('#login-password', PASSWORD);
      await me.click('#login-submit');
      await me.waitForURL((u) => u.pathname === '/me');
      const item = me.locator('#notification-list li[data-kind="live_started"] > span').first();
      await until('the notification names the anchor', async () => (await item.count()) === 1 && (await item.textContent()) === `${anchorName} is live now: Evening show`, 10_000, 200)
        .catch(async (err: Error) => { throw new Error(`${err.message}: ${await text(me, '#panel')}`); });
      await fanContext.close();
    });
  });
}
