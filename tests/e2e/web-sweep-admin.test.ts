/**
 * The operator console as the browser sweep used it, in Chromium (playwright-core, Debian's
 * /usr/bin/chromium) against the all-in-one stack:
 *   - gifts: the console had no gift catalog, so a new site's rooms showed no gift bar until an
 *     operator called POST /admin/gifts by hand; the Gifts tab adds one (the room page shows it)
 *     and disables it (the room page no longer does);
 *   - reports: a report of a chat line showed the line's id ("1795984641155-0"), not what was said;
 *     the reports table now quotes the line;
 *   - on a slow network a tab still loading drew itself over the tab chosen after it (Users over Rooms).
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { textOf as text } from '../../core/testing/chromium.js';
import { until } from './onair-stack.js';
import { OPERATOR, liveRoom, moneyEnv } from './gifts-kit.js';
import { describeWeb } from './web-kit.js';

describeWeb('web sweep: the operator console', moneyEnv, (web) => {
  const page = (path: string): Promise<Page> => web.open(path, { viewport: { width: 1280, height: 900 } });

  async function operator(tab: string): Promise<Page> {
    const p = await web.logIn(OPERATOR.username, '/admin', { viewport: { width: 1280, height: 900 } }, OPERATOR.password);
    await p.evaluate(`location.hash = ${JSON.stringify(tab)}`);
    return p;
  }

  it('the Gifts tab adds a gift the room page shows, and disables it', async () => {
    const anchor = await web.stack.user('anchor');
    const room = await web.stack.call('POST', '/rooms', { title: 'gift shop' }, anchor.token);
    const ops = await operator('gifts');
    await until('the Gifts tab says there are none', async () => /No gifts yet/.test(await text(ops, '#panel')), 10_000, 200).catch(async (e) => { throw new Error(`${e.message}: ${await text(ops, 'body')}`); });
    await ops.fill('#gift-name', 'Rose');
    await ops.fill('#gift-price', '10');
    await ops.click('#gift-add');
    await until('the gift is listed', async () => (await ops.locator('#gifts-table tr[data-enabled="true"] .gift-name', { hasText: 'Rose' }).count()) === 1, 10_000, 200);
    assert.equal(await text(ops, '#gifts-msg'), 'Added Rose: viewers see it in every room.');

    const viewer = await page(`/watch/${room.body.id}`);
    await viewer.locator('#conventions-ok').click({ timeout: 2000 }).catch(() => undefined);
    await until('the room page shows the gift', async () => (await text(viewer, '#gift-bar')) === 'Rose · 10', 10_000, 200);

    await ops.locator('#gifts-table tr[data-enabled="true"] .gift-toggle').click();
    await until('the gift is disabled', async () => (await ops.locator('#gifts-table tr[data-enabled="false"]').count()) === 1, 10_000, 200);
    assert.deepEqual((await web.stack.call('GET', '/gifts')).body.gifts, [], 'no gift on sale');
  });

  it('a slow tab does not draw over the tab chosen after it', async () => {
    const ops = await operator('overview');
    await ops.context().route('**/api/v1/admin/users**', async (route) => {
      await new Promise((r) => setTimeout(r, 2000));
      await route.continue().catch(() => undefined);
    });
    await ops.evaluate('location.hash = "users"');
    await new Promise((r) => setTimeout(r, 300));
    await ops.evaluate('location.hash = "rooms"');
    await ops.locator('#rooms-table').waitFor({ state: 'attached', timeout: 10_000 });
    await new Promise((r) => setTimeout(r, 3500)); // the users' answer has come by now
    assert.equal(await ops.locator('#users-table').count(), 0, 'the Users panel did not draw over Rooms');
    assert.equal(await ops.locator('#rooms-table').count(), 1);
    assert.equal(await ops.locator('#tabs a.active').getAttribute('href'), '#rooms');
    await ops.context().unrouteAll();
  });

  it('a reported chat line is quoted in the reports table', async () => {
    const anchor = await web.stack.user('anchor');
    const live = await liveRoom(web.stack, anchor);
    web.track(live.pusher);
    const username = `sweep_r_${process.pid}`;
    const a = await web.registerAndLogIn(username, `/watch/${live.roomId}`, { viewport: { width: 1280, height: 900 } });
    await a.locator('#conventions-ok').click({ timeout: 2000 }).catch(() => undefined);
    await a.locator('#chat-form').waitFor({ state: 'visible', timeout: 30_000 });
    const said = `you are all terrible ${process.pid}`;
    await a.fill('#chat-input', said);
    await a.click('#chat-send');
    let messageId = '';
    await until('the line is in the history', async () => {
      const kept = await web.stack.call('GET', `/rooms/${live.roomId}/chat?limit=50`);
      messageId = kept.body.messages.find((m: any) => m.text === said)?.id ?? '';
      return messageId !== '';
    }, 15_000, 200);
    const reporter = await web.stack.user('viewer');
    const report = await web.stack.call('POST', `/rooms/${live.roomId}/reports`, { reason: 'insults', message_id: messageId }, reporter.token);
    assert.equal(report.status, 201, JSON.stringify(report.body));

    const ops = await operator('audits');
    const row = ops.locator(`#reports-table tr[data-report-id="${report.body.id}"]`);
    await row.waitFor({ timeout: 15_000 });
    await until('the report quotes the line', async () => (await text(ops, `#reports-table tr[data-report-id="${report.body.id}"] .reported`)).endsWith(`: ${said}`), 10_000, 200);
    assert.deepEqual(web.violations, [], 'no Content-Security-Policy violation');
  });
});
