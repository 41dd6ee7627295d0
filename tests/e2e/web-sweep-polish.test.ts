/**
 * The web product's rough edges a browser sweep found, used as people do in Chromium (playwright-core,
 * Debian's /usr/bin/chromium) against the all-in-one stack, at a phone's size and on a desktop, in
 * English and in Chinese:
 *   - counts said "1 likes", "1 coins", "(1 gifts)": now the English singular, and Chinese as it is
 *     written (no plural: "1 个赞");
 *   - the wallet's history showed the ledger's raw kinds ("gift_sent", "recharge"): now their names
 *     in both languages, and a kind the page does not know yet in a readable form, never blank;
 *   - the console's search boxes (and its selects, the rules' text box, the chat's text box on the
 *     room page) had no label: every control of every page has an accessible name, buttons have
 *     names, images have alt;
 *   - a tab or list that was loading showed nothing, and a failed request left it blank (the
 *     console, the personal center, the home page's rooms): now "Loading…", then the list, or what
 *     failed with a Retry that works once the server is back;
 *   - the console's rooms list had no force close (only the supervision wall did): now it has, with
 *     the wall's confirmation and API call.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import type { BrowserContextOptions, Page, Route } from 'playwright-core';
import { textOf as text } from '../../core/testing/chromium.js';
import { until } from './onair-stack.js';
import { OPERATOR, liveRoom, moneyEnv, operatorToken, recharge, type LiveRoom } from './gifts-kit.js';
import { describeWeb } from './web-kit.js';

const PHONE: BrowserContextOptions = { viewport: { width: 375, height: 667 }, isMobile: true, hasTouch: true };
const DESKTOP: BrowserContextOptions = { viewport: { width: 1280, height: 900 } };
const CHINESE: BrowserContextOptions = { locale: 'zh-CN' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * What the page's controls lack: form fields without an accessible name (a label, aria-label,
 * aria-labelledby or title; a placeholder is not one), buttons without a name, images without alt.
 */
const UNNAMED = `(() => {
  const shown = (el) => el.getClientRects().length > 0;
  const byIds = (ids) => ids.split(/\\s+/).map((id) => document.getElementById(id)?.textContent ?? '').join(' ');
  const nameOf = (el) => [
    el.getAttribute('aria-label') ?? '',
    el.getAttribute('aria-labelledby') ? byIds(el.getAttribute('aria-labelledby')) : '',
    [...(el.labels ?? [])].map((l) => l.textContent ?? '').join(' '),
    el.getAttribute('title') ?? '',
  ].join(' ').trim();
  const what = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className ? '.' + String(el.className).split(' ')[0] : '');
  const missing = [];
  for (const el of document.querySelectorAll('input, select, textarea')) if (el.type !== 'hidden' && shown(el) && !nameOf(el)) missing.push('unlabelled ' + what(el));
  for (const el of document.querySelectorAll('button')) if (shown(el) && !(el.textContent ?? '').trim() && !nameOf(el)) missing.push('unnamed ' + what(el));
  for (const el of document.querySelectorAll('img')) if (!el.hasAttribute('alt')) missing.push('no alt ' + what(el));
  return missing;
})()`;
function unnamed(page: Page): Promise<string[]> {
  return page.evaluate(UNNAMED) as Promise<string[]>;
}

/** Waits until `page`'s #panel has drawn its tab (something in it, not "Loading…"). */
async function drawn(page: Page, what: string): Promise<void> {
  await until(what, async () => (await page.locator('#panel > *').count()) > 0 && (await page.locator('#panel .loading').count()) === 0, 15_000, 100);
}

/** Requests to `pattern` answer slowly, fail as with the server down, or go through, as `mode.now` says. */
function flaky(page: Page, pattern: string) {
  const mode = { now: 'up' as 'up' | 'slow' | 'down' };
  const handler = async (route: Route) => {
    if (mode.now === 'down') return route.abort('connectionrefused');
    if (mode.now === 'slow') await sleep(1500);
    await route.continue().catch(() => undefined);
  };
  return { mode, ready: page.route(pattern, handler) };
}

describeWeb('web sweep: counts, labels, loading and errors, force close', moneyEnv, (web) => {
  let show: LiveRoom | undefined;
  let anchor: { token: string; id: string };
  const anchorName = `polish_anchor_${process.pid}`;
  /** One live room the tests share (the last test closes a room of its own). */
  async function liveShow(): Promise<LiveRoom> {
    if (!show) {
      anchor = await web.stack.user('anchor', anchorName);
      show = await liveRoom(web.stack, anchor);
      web.track(show.pusher);
    }
    return show;
  }

  it('counts read "1 like", "1 coin" in English and naturally in Chinese; the wallet names its ledger kinds', async () => {
    const { roomId } = await liveShow();
    const op = await operatorToken(web.stack);
    assert.equal((await web.stack.call('POST', '/admin/gifts', { name: 'Pebble', price: 1 }, op)).status, 201);
    const fanName = `polish_fan_${process.pid}`;
    const fan = await web.stack.user('viewer', fanName);
    await recharge(web.stack, fan.token, 1);
    assert.equal((await web.stack.call('POST', `/rooms/${roomId}/follow`, undefined, fan.token)).status, 200);

    // A Chinese viewer watches too (anonymous, on a phone).
    const zh = await web.open(`/watch/${roomId}`, { ...PHONE, ...CHINESE });
    await zh.locator('#conventions-ok').click({ timeout: 2000 }).catch(() => undefined);
    await until('the Chinese page shows the gift', async () => (await zh.locator('#gift-bar button').count()) === 1, 15_000, 200);
    assert.equal(await zh.locator('#gift-bar button').getAttribute('title'), '1 金币');

    const room = await web.logIn(fanName, `/watch/${roomId}`, PHONE);
    await room.locator('#conventions-ok').click({ timeout: 2000 }).catch(() => undefined);
    await until('the balance says 1 coin', async () => (await text(room, '#balance')) === 'Balance: 1 coin', 15_000, 200);
    assert.equal(await room.locator('#gift-bar button').getAttribute('title'), '1 coin');
    await room.locator('#gift-bar button').click();
    await until('the balance says 0 coins', async () => (await text(room, '#balance')) === 'Balance: 0 coins', 10_000, 200);
    await until('the ranking says 1 coin', async () => /\b1 coin$/.test(await text(room, '#ranking-list li:first-child')), 20_000, 250);
    await until('the Chinese ranking says 1 金币', async () => /1 金币$/.test(await text(zh, '#ranking-list li:first-child')), 20_000, 250);
    await room.click('#like');
    await until('the viewer sees 1 like', async () => (await text(room, '#likes')) === '1 like', 20_000, 250);
    await until('the Chinese viewer sees 1 个赞', async () => (await text(zh, '#likes')) === '1 个赞', 20_000, 250);

    // The personal center: the wallet names what happened, in English...
    const me = await web.logIn(fanName, '/me#wallet', PHONE);
    await me.locator('#ledger-table').waitFor({ timeout: 15_000 });
    assert.deepEqual((await me.locator('#ledger-table .ledger-kind').allTextContents()).sort(), ['Gift sent', 'Recharge']);
    assert.equal(await text(me, '#recharge-table tr:first-child td:nth-child(2)'), '1 coin');
    assert.equal(await text(me, '#recharge-table tr:first-child .order-status'), 'paid');
    await me.evaluate('location.hash = "following"');
    await until('following says 1 anchor', async () => (await text(me, '#following-total')) === 'You follow 1 anchor.', 10_000, 100);

    // ... and in Chinese; a kind this page does not know yet (a newer server) is readable, not blank.
    const zhMe = await web.logIn(fanName, '/me#following', { ...PHONE, ...CHINESE });
    await until('关注 says 1 位主播', async () => (await text(zhMe, '#following-total')) === '已关注 1 位主播', 10_000, 100);
    await zhMe.route('**/api/v1/wallet/ledger**', async (route) => {
      const response = await route.fetch();
      const json = await response.json();
      json.entries.unshift({ ...json.entries[0], id: '999999', kind: 'lucky_draw_prize', amount: 5 });
      await route.fulfill({ response, json });
    });
    await zhMe.evaluate('location.hash = "wallet"');
    await zhMe.locator('#ledger-table').waitFor({ timeout: 15_000 });
    assert.deepEqual((await zhMe.locator('#ledger-table .ledger-kind').allTextContents()).sort(), ['Lucky draw prize', '充值', '送出礼物'].sort());
    assert.equal(await text(zhMe, '#recharge-table tr:first-child td:nth-child(2)'), '1 金币');
    assert.equal(await text(zhMe, '#recharge-table tr:first-child .order-status'), '已支付');
    assert.deepEqual(web.violations, [], 'no Content-Security-Policy violation');
  });

  it('every control on every page has an accessible name, in English and Chinese', async () => {
    const { roomId } = await liveShow();
    const viewerName = `polish_a11y_${process.pid}`;
    await web.stack.user('viewer', viewerName);
    const found: string[] = [];
    const check = async (page: Page, where: string) => {
      for (const m of await unnamed(page)) found.push(`${where}: ${m}`);
    };

    for (const language of [{}, CHINESE]) {
      const tag = language === CHINESE ? 'zh' : 'en';
      const home = await web.open('/', { ...PHONE, ...language });
      await until('the home page lists the room', async () => (await home.locator('#rooms li').count()) > 0, 15_000, 200);
      await check(home, `${tag} /`);
      assert.equal(await home.getAttribute('#search', 'aria-label'), tag === 'zh' ? '搜索直播间或主播' : 'Search rooms or anchors');
      await check(await web.open('/login', { ...PHONE, ...language }), `${tag} /login`);

      const watch = await web.logIn(viewerName, `/watch/${roomId}`, { ...PHONE, ...language });
      await watch.locator('#conventions-ok').click({ timeout: 2000 }).catch(() => undefined);
      await watch.locator('#chat-form').waitFor({ state: 'visible', timeout: 30_000 });
      await check(watch, `${tag} /watch`);
      assert.equal(await watch.getAttribute('#chat-input', 'aria-label'), tag === 'zh' ? '聊天消息' : 'Chat message');

      const me = await web.logIn(viewerName, '/me', { ...PHONE, ...language });
      for (const tab of ['notifications', 'history', 'following', 'fans', 'wallet']) {
        await me.evaluate(`location.hash = ${JSON.stringify(tab)}`);
        await drawn(me, `/me#${tab} drawn`);
        await check(me, `${tag} /me#${tab}`);
      }

      const studio = await web.logIn(anchorName, '/studio', { ...DESKTOP, ...language });
      await studio.locator('article.room').first().waitFor({ timeout: 15_000 });
      await studio.locator('article.room details summary').first().click();
      await check(studio, `${tag} /studio`);

      const admin = await web.logIn(OPERATOR.username, '/admin', { ...DESKTOP, ...language }, OPERATOR.password);
      for (const tab of ['overview', 'wall', 'rooms', 'users', 'gifts', 'conventions', 'audits', 'pending']) {
        await admin.evaluate(`location.hash = ${JSON.stringify(tab)}`);
        await drawn(admin, `/admin#${tab} drawn`);
        if (tab === 'wall') await admin.locator('#panel article.tile').first().waitFor({ timeout: 15_000 });
        if (tab === 'rooms') await admin.locator(`#rooms-table tr[data-room-id="${roomId}"] button`).first().click(); // the room's details too
        if (tab === 'rooms') await admin.locator('#room-detail .room-actions').waitFor({ timeout: 10_000 });
        await check(admin, `${tag} /admin#${tab}`);
      }
      // The keyboard's place shows: Tab onto the console's tabs.
      await admin.locator('#tabs a').first().focus();
      await admin.keyboard.press('Tab');
      const outline = await admin.evaluate('(() => { const s = getComputedStyle(document.activeElement); return [document.activeElement.tagName, s.outlineStyle, s.outlineWidth]; })()') as string[];
      assert.equal(outline[0], 'A');
      assert.notEqual(outline[1], 'none', `a focused link shows an outline (${outline.join(' ')})`);
    }
    assert.deepEqual(found, [], 'every control has an accessible name');
    assert.deepEqual(web.violations, [], 'no Content-Security-Policy violation');
  });

  it('tabs and lists say they load, and a failed request says so with a Retry that works', async () => {
    // The console (desktop): the Users tab, slow, then with the server down.
    const admin = await web.logIn(OPERATOR.username, '/admin', DESKTOP, OPERATOR.password);
    await drawn(admin, 'the overview is drawn');
    const users = flaky(admin, '**/api/v1/admin/users**');
    await users.ready;
    users.mode.now = 'slow';
    await admin.evaluate('location.hash = "users"');
    await until('the Users tab says it loads', async () => (await text(admin, '#panel')) === 'Loading…', 1000, 50);
    await admin.locator('#users-table').waitFor({ timeout: 10_000 });
    users.mode.now = 'down';
    await admin.evaluate('location.hash = "gifts"');
    await drawn(admin, 'the gifts tab is drawn');
    await admin.evaluate('location.hash = "users"');
    await until('the Users tab says it failed', async () => (await text(admin, '#panel .error')) === 'Could not load this: the server cannot be reached', 10_000, 100);
    assert.equal(await text(admin, '#panel button.retry'), 'Retry');
    users.mode.now = 'up';
    await admin.click('#panel button.retry');
    await admin.locator('#users-table').waitFor({ timeout: 10_000 });

    // The personal center (phone, Chinese): History.
    const name = `polish_load_${process.pid}`;
    await web.stack.user('viewer', name);
    const me = await web.logIn(name, '/me#following', { ...PHONE, ...CHINESE });
    await drawn(me, 'following is drawn');
    const history = flaky(me, '**/api/v1/me/watch-history**');
    await history.ready;
    history.mode.now = 'slow';
    await me.evaluate('location.hash = "history"');
    await until('History says it loads', async () => (await text(me, '#panel')) === '加载中…', 1000, 50);
    await until('History is drawn', async () => (await text(me, '#panel')) === '还没有观看记录。', 10_000, 100);
    history.mode.now = 'down';
    await me.evaluate('location.hash = "fans"');
    await drawn(me, 'fans is drawn');
    await me.evaluate('location.hash = "history"');
    await until('History says it failed', async () => (await text(me, '#panel .error')) === '加载失败：无法连接服务器', 10_000, 100);
    history.mode.now = 'up';
    await me.click('#panel button.retry');
    await until('History is back', async () => (await text(me, '#panel')) === '还没有观看记录。', 10_000, 100);

    // The studio (desktop): "My rooms", with the server down at first.
    const anchorForStudio = `polish_studio_${process.pid}`;
    const studioOwner = await web.stack.user('anchor', anchorForStudio);
    assert.equal((await web.stack.call('POST', '/rooms', { title: 'studio list' }, studioOwner.token)).status, 201);
    const studioContext = await web.context(DESKTOP);
    const studioRooms = { mode: 'down' as 'up' | 'slow' | 'down' };
    await studioContext.route('**/api/v1/me/studio/rooms**', async (route) => {
      if (studioRooms.mode === 'down') return route.abort('connectionrefused');
      await route.continue().catch(() => undefined);
    });
    const studio = await web.logIn(anchorForStudio, '/studio', studioContext);
    await until('My rooms says it failed', async () => (await text(studio, '#rooms-state .error')) === 'Could not load this: the server cannot be reached', 10_000, 100);
    assert.equal(await text(studio, '#rooms-state button.retry'), 'Retry');
    studioRooms.mode = 'up';
    await studio.click('#rooms-state button.retry');
    await until('My rooms is back', async () => (await text(studio, '#rooms-state')) === '' && (await studio.locator('article.room').count()) === 1, 10_000, 100);

    // The home page (phone): the live list, with the server down at first.
    const home = await (await web.context(PHONE)).newPage();
    web.watch(home, '/');
    const rooms = flaky(home, '**/api/v1/rooms**');
    await rooms.ready;
    rooms.mode.now = 'slow';
    await home.goto(web.url('/'));
    await until('the list says it loads', async () => (await text(home, '#rooms-state')) === 'Loading…', 1000, 50);
    rooms.mode.now = 'down';
    await home.reload();
    await until('the list says it failed', async () => (await text(home, '#rooms-state .error')) === 'Could not load this: the server cannot be reached', 10_000, 100);
    rooms.mode.now = 'up';
    await home.click('#rooms-state button.retry');
    await until('the list is back', async () => (await text(home, '#rooms-state')) === '' && /^updated /.test(await text(home, '#status')), 10_000, 100);
    assert.deepEqual(web.violations, [], 'no Content-Security-Policy violation');
  });

  it('a recharge order left unpaid says so and is paid from the wallet', async () => {
    const name = `polish_unpaid_${process.pid}`;
    const user = await web.stack.user('viewer', name);
    const order = await web.stack.call('POST', '/wallet/recharges', { coins: 5 }, user.token);
    assert.equal(order.status, 201, JSON.stringify(order.body));
    const me = await web.logIn(name, '/me#wallet', PHONE);
    const row = me.locator(`#recharge-table tr[data-order-id="${order.body.id}"]`);
    await row.waitFor({ timeout: 15_000 });
    assert.equal(await text(me, `#recharge-table tr[data-order-id="${order.body.id}"] .order-status`), 'waiting for payment');
    await row.locator('button', { hasText: 'Pay' }).click({ timeout: 5000 });
    await until('the order is paid', async () => (await text(me, `#recharge-table tr[data-order-id="${order.body.id}"] .order-status`)) === 'paid', 15_000, 200);
    assert.equal(await text(me, '#wallet-balance'), '5');
    assert.deepEqual(await me.locator('#ledger-table .ledger-kind').allTextContents(), ['Recharge']);
  });

  it('the console\'s rooms list force closes a live room, with the wall\'s confirmation', async () => {
    const owner = await web.stack.user('anchor');
    const live = await liveRoom(web.stack, owner);
    web.track(live.pusher);
    const admin = await web.logIn(OPERATOR.username, '/admin#rooms', PHONE, OPERATOR.password);
    const dialogs: string[] = [];
    admin.on('dialog', (d) => {
      dialogs.push(`${d.type()}: ${d.message()}`);
      void d.accept('closed from the rooms list');
    });
    const row = admin.locator(`#rooms-table tr[data-room-id="${live.roomId}"]`);
    await row.waitFor({ timeout: 15_000 });
    const close = row.locator('button.force-close');
    assert.equal(await close.count(), 1, 'a live room has Force close');
    assert.equal(await text(admin, `#rooms-table tr[data-room-id="${live.roomId}"] button.force-close`), 'Force close');
    await close.click();
    await until('the room is closed', async () => (await web.stack.call('GET', `/rooms/${live.roomId}`)).body.is_live === false, 15_000, 200);
    assert.deepEqual(dialogs, [`prompt: Force close room ${live.roomId}? Its stream key is revoked.`]);
    await until('the console says so', async () => (await text(admin, '#rooms-msg')) === `Room #${live.roomId} was closed.`, 10_000, 100);
    assert.equal(await row.locator('button.force-close').count(), 0, 'no Force close once it is offline');
    assert.equal(await text(admin, `#rooms-table tr[data-room-id="${live.roomId}"] .offline`), 'banned', 'its stream key is revoked');
    const detail = await web.stack.call('GET', `/admin/rooms/${live.roomId}`, undefined, await operatorToken(web.stack));
    assert.ok(detail.body.moderation.some((m: any) => m.kind === 'force_close' && m.reason === 'closed from the rooms list'), JSON.stringify(detail.body.moderation));
    assert.deepEqual(web.violations, [], 'no Content-Security-Policy violation');
  });
});
