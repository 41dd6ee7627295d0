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
import { before, it } from 'node:test';
import assert from 'node:assert/strict';
import type { BrowserContext } from 'playwright-core';
import { textOf as text } from '../../core/testing/chromium.js';
import { until } from './onair-stack.js';
import { moneyEnv, publishLight } from './gifts-kit.js';
import { describeWeb, PASSWORD } from './web-kit.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeWeb('web sweep: the personal center on a slow network', moneyEnv, (web) => {
  let context: BrowserContext;

  before(async () => {
    context = await web.context({ viewport: { width: 375, height: 667 }, isMobile: true, hasTouch: true });
  });

  it('a slow wallet does not draw over another tab, and a double click recharges once', async () => {
    const username = `sweep_me_${process.pid}`;
    const p = await web.registerAndLogIn(username, '/me', context);

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
    const login = await web.stack.call('POST', '/auth/login', { username, password: PASSWORD });
    const orders = await web.stack.call('GET', '/wallet/recharges?limit=20', undefined, login.body.token);
    assert.equal(orders.body.orders.length, 1, `one order: ${JSON.stringify(orders.body.orders)}`);
    assert.equal((await web.stack.call('GET', '/wallet', undefined, login.body.token)).body.balance, 100);
    assert.deepEqual(web.violations, [], 'no Content-Security-Policy violation');
  });

  it('a followed anchor going live is announced by name, with the room\'s title', async () => {
    await context.unrouteAll();
    const anchorName = `sweep_anchor_${process.pid}`;
    const anchor = await web.stack.user('anchor', anchorName);
    const room = await web.stack.call('POST', '/rooms', { title: 'Evening show' }, anchor.token);
    const fanName = `sweep_fan_${process.pid}`;
    const fan = await web.stack.user('viewer', fanName);
    assert.equal((await web.stack.call('POST', `/rooms/${room.body.id}/follow`, undefined, fan.token)).status, 200);
    const start = await web.stack.call('POST', '/live/start', { room_id: room.body.id }, anchor.token);
    web.track(publishLight(web.stack.fixPort(start.body.push_url)));
    await until('the notification exists', async () => (await web.stack.call('GET', '/notifications', undefined, fan.token)).body.notifications?.length === 1, 30_000, 200);

    const fanContext = await web.context({ viewport: { width: 375, height: 667 } });
    const me = await web.logIn(fanName, '/me', fanContext);
    const item = me.locator('#notification-list li[data-kind="live_started"] > span').first();
    await until('the notification names the anchor', async () => (await item.count()) === 1 && (await item.textContent()) === `${anchorName} is live now: Evening show`, 10_000, 200)
      .catch(async (err: Error) => { throw new Error(`${err.message}: ${await text(me, '#panel')}`); });
    await fanContext.close();
  });
});
