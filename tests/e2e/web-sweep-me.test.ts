/**
 * The personal center on a slow network (playwright route delays), in Chromium (playwright-core,
 * Debian's /usr/bin/chromium) against the all-in-one stack with sandbox payments, at a phone's
 * size, as the browser sweep used it:
 *   - a viewer opened the wallet and, while it loaded, the History tab: the wallet drew itself over
 *     the History tab when its answers came; now a panel that is no longer chosen draws nothing;
 *   - a double click on *Recharge* made two orders (the sandbox paid both: 200 coins for a
 *     100-coin recharge); now one click, one order.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext } from 'playwright-core';
import { missingChromium, launchChromium, textOf as text, watchCsp } from '../../core/testing/chromium.js';
import { stackAdapterSets, startStack, until, type Stack } from './onair-stack.js';
import { moneyEnv } from './gifts-kit.js';

const skip = missingChromium();
const PASSWORD = 'correct-horse-battery';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const adapters of skip ? [] : stackAdapterSets()) {
  describe(`web sweep: the personal center on a slow network (${adapters.name})`, () => {
    let stack: Stack;
    let cleanup: () => Promise<void>;
    let browser: Browser;
    let context: BrowserContext;
    const violations: string[] = [];

    before(async () => {
      const env = await adapters.env();
      cleanup = env.cleanup;
      stack = await startStack({ ...env.env, ...moneyEnv });
      browser = await launchChromium();
      context = await browser.newContext({ locale: 'en-US', viewport: { width: 375, height: 667 }, isMobile: true, hasTouch: true });
    });

    after(async () => {
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
  });
}
