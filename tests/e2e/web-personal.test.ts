/**
 * The personal center, the room page's social parts and the studio's chat moderation in Chromium
 * (playwright-core, Debian's /usr/bin/chromium) against the all-in-one stack, rooms pushed by
 * ffmpeg, sandbox payments:
 *   a viewer logs in, follows the anchor from the room page and copies its share link, recharges
 *   in the personal center's wallet (sandbox provider), sends a gift and appears in the room's gift
 *   ranking; posts a line the anchor's studio hides and then mutes; leaves the room (the page's
 *   /exit on pagehide: the history shows a watch time, not "watching now"); following and fans
 *   list each other; the operator console lists the viewer's report (dismissed there) and the
 *   anchor's moderation actions and adjusts the viewer's wallet; the studio's after-show summary shows the gift income; the anchor goes live
 *   again and the follower's notifications show it (live over /ws/notification where control has
 *   it, else by polling GET /notifications) and mark it read; the console warns the anchor on a
 *   report (the room's chat says so) and pauses the show on another; /me on a phone and in Chinese.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { missingTool } from '../../core/testing/tools.js';
import { launchChromium, missingChromium, textOf as text, watchCsp } from '../../core/testing/chromium.js';
import { stackAdapterSets, startStack, until, type Stack } from './onair-stack.js';
import { liveRoom, moneyEnv, OPERATOR, operatorToken, publishLight } from './gifts-kit.js';

const skip = missingTool('ffmpeg') || missingChromium();
const shots = process.env.ONAIR_SCREENSHOTS_DIR;
const PASSWORD = 'correct-horse-battery';

for (const adapters of skip ? [] : stackAdapterSets()) {
  describe(`web personal center, room social, studio moderation (${adapters.name})`, () => {
    let stack: Stack;
    let cleanup: () => Promise<void>;
    let browser: Browser;
    const pushers: ChildProcess[] = [];
    const violations: string[] = [];
    const contexts: BrowserContext[] = [];

    before(async () => {
      const env = await adapters.env();
      cleanup = env.cleanup;
      // The anchor goes live again a minute after the first show: every show announces here (the
      // default tells followers once per 10 minutes of an anchor's shows; web-sweep-me covers it).
      stack = await startStack({ ...env.env, ...moneyEnv, ONAIR_NOTIFY_LIVE_QUIET: '0' });
      browser = await launchChromium();
      if (shots) mkdirSync(shots, { recursive: true });
    });

    after(async () => {
      for (const p of pushers) p.kill('SIGKILL');
      await browser?.close();
      await stack?.close();
      await cleanup?.();
    });

    const shot = async (p: Page, name: string, fullPage = false) => {
      if (shots && adapters.name === 'embedded') await p.screenshot({ path: join(shots, `${name}.png`), fullPage });
    };

    /** A browser context of its own, logged in through the login page, on `next`. */
    async function loggedIn(username: string, next: string, viewport = { width: 1200, height: 800 }, password = PASSWORD): Promise<Page> {
      const context = await browser.newContext({ locale: 'en-US', viewport, permissions: ['clipboard-read', 'clipboard-write'] });
      contexts.push(context);
      const p = watchCsp(await context.newPage(), violations, next);
      await p.goto(`http://127.0.0.1:${stack.httpPort}/login?next=${encodeURIComponent(next)}`);
      await p.fill('#login-username', username);
      await p.fill('#login-password', password);
      await p.click('#login-submit');
      await p.waitForURL((u) => u.pathname === next.split('#')[0]);
      return p;
    }

    it('follow, share, recharge, gift ranking, moderation, history, fans, after-show summary, go-live notification', async () => {
      const anchorName = `anchor_me_${process.pid}`;
      const viewerName = `viewer_me_${process.pid}`;
      const anchor = await stack.user('anchor', anchorName);
      const viewer = await stack.user('viewer', viewerName);
      const live = await liveRoom(stack, anchor);
      pushers.push(live.pusher);
      const op = await operatorToken(stack);
      const gift = await stack.call('POST', '/admin/gifts', { name: 'Rose', price: 10 }, op);
      assert.equal(gift.status, 201, JSON.stringify(gift.body));

      // The room page: follow and share.
      const room = await loggedIn(viewerName, `/watch/${live.roomId}`);
      await room.locator('#conventions-ok').click({ timeout: 2000 }).catch(() => undefined);
      await room.locator('#follow').waitFor({ state: 'visible', timeout: 15_000 });
      assert.equal(await text(room, '#follow'), '+ Follow');
      await room.click('#follow');
      await until('the button says following', async () => (await text(room, '#follow')) === '✓ Following', 10_000, 200);
      await room.click('#share');
      await until('the share link is copied', async () => /^Link copied: /.test(await text(room, '#social-msg')), 10_000, 200);
      const shared = (await room.evaluate('navigator.clipboard.readText()')) as string;
      assert.match(shared, new RegExp(`/watch/${live.roomId}$`), shared);

      // The personal center's wallet: recharge through the sandbox provider.
      const me = watchCsp(await room.context().newPage(), violations, '/me');
      await me.goto(`http://127.0.0.1:${stack.httpPort}/me#wallet`);
      await me.locator('#recharge-form').waitFor({ timeout: 10_000 });
      assert.equal(await text(me, '#wallet-balance'), '0');
      await me.fill('#recharge-coins', '100');
      await me.click('#recharge-submit');
      await until('the balance shows the recharge', async () => (await text(me, '#wallet-balance')) === '100', 15_000, 200);
      assert.equal(await text(me, '#recharge-msg'), '100 coins added.');
      assert.equal(await me.getAttribute('#recharge-table tr', 'data-status'), 'paid');
      assert.equal(await text(me, '#recharge-table tr .order-status'), 'paid');

      // A gift puts the viewer at the top of the show's ranking.
      await room.bringToFront();
      await room.reload();
      await room.locator('#conventions-ok').click({ timeout: 2000 }).catch(() => undefined);
      const button = `#gift-bar button[data-gift-id="${gift.body.id}"]`;
      await room.locator(button).waitFor();
      await until('the balance is 100', async () => (await text(room, '#balance')) === 'Balance: 100 coins', 10_000, 200);
      await room.click(button);
      await until('the gift is sent', async () => (await text(room, '#gift-msg')) === 'You sent Rose.', 10_000, 200);
      await until('the ranking shows the viewer first', async () =>
        (await text(room, '#ranking-list li:first-child')).startsWith(`#1 ${viewerName}`), 20_000, 500);
      assert.match(await text(room, '#ranking-list li:first-child'), /10 coins$/);
      await shot(room, 'room-social');
      // The operator changes the price while the bar still shows 10: the click charges nothing, says
      // so with the new price, and the bar is drawn again with it.
      assert.equal((await stack.call('PATCH', `/admin/gifts/${gift.body.id}`, { price: 12 }, op)).status, 200);
      await room.click(button);
      await until('the price change is told', async () =>
        (await text(room, '#gift-msg')) === 'The price of Rose just changed to 12 coins; nothing was charged. Send again at the new price?', 10_000, 200);
      assert.equal(await room.getAttribute('#gift-msg', 'data-code'), 'price_changed');
      await until('the bar shows the new price', async () => (await text(room, button)) === 'Rose · 12', 10_000, 200);
      assert.equal((await stack.call('GET', '/wallet', undefined, viewer.token)).body.balance, 90, 'nothing charged');

      // The anchor's studio: the chat with moderation.
      const studio = await loggedIn(anchorName, '/studio');
      const panel = studio.locator(`#moderation-${live.roomId}`);
      await panel.locator('summary').click();
      await room.locator('#chat-form').waitFor({ state: 'visible', timeout: 30_000 });
      const line = `spam from ${viewerName}`;
      await room.fill('#chat-input', line);
      await room.click('#chat-send');
      const row = panel.locator('li', { hasText: line });
      await row.waitFor({ timeout: 15_000 });
      await row.locator('button.hide-msg').click();
      await until('the studio shows the line hidden', async () => (await row.getAttribute('class'))?.includes('hidden-msg') === true, 15_000, 200);
      await until('the viewer no longer sees the line', async () => (await room.locator('#chat-list li.msg', { hasText: line }).count()) === 0, 15_000, 200);
      await row.locator('button.mute').click();
      await until('the studio says muted', async () => /is muted for 10 minutes/.test(await text(studio, `#moderation-${live.roomId} p[role=status]`)), 10_000, 200);
      await room.fill('#chat-input', 'am I muted?');
      await room.click('#chat-send');
      await until('the viewer is told they are muted', async () => /muted/i.test(await text(room, '#chat-list') + await text(room, '#chat-error')), 10_000, 200);
      await row.locator('button.make-admin').click();
      await until('the viewer is listed as a room admin', async () => (await panel.locator(`#admins-${live.roomId} li[data-user-id="${viewer.id}"]`).count()) === 1, 10_000, 200);
      await shot(studio, 'studio-moderation');

      // Leaving the room calls /exit: the history shows a watch time.
      await room.goto(`http://127.0.0.1:${stack.httpPort}/me#history`);
      await room.locator(`#history-table tr[data-room-id="${live.roomId}"]`).first().waitFor({ timeout: 10_000 });
      await until('the history has the exit', async () => {
        await room.reload();
        await room.locator('#history-table').waitFor({ timeout: 5_000 });
        return !/watching now/.test(await text(room, `#history-table tr[data-room-id="${live.roomId}"]`));
      }, 15_000, 1000);
      assert.match(await text(room, `#history-table tr[data-room-id="${live.roomId}"] .watch-time`), /^\d+ min$/);
      await shot(room, 'me-history');

      // Following and fans.
      await me.goto(`http://127.0.0.1:${stack.httpPort}/me#following`);
      await me.locator(`#following-list li[data-user-id="${anchor.id}"]`).waitFor({ timeout: 10_000 });
      assert.match(await text(me, `#following-list li[data-user-id="${anchor.id}"]`), new RegExp(anchorName));
      const fans = await studio.context().newPage();
      await fans.goto(`http://127.0.0.1:${stack.httpPort}/me#fans`);
      await fans.locator(`#fans-list li[data-user-id="${viewer.id}"]`).waitFor({ timeout: 10_000 });
      await fans.close();

      // The operator console's audit view: the viewer's report (dismissed there) and the anchor's
      // moderation actions; a wallet adjustment with a reason from the users panel.
      assert.equal((await stack.call('POST', `/rooms/${live.roomId}/reports`, { reason: 'spam in chat' }, viewer.token)).status, 201);
      const ops = await loggedIn(OPERATOR.username, '/admin', undefined, OPERATOR.password);
      await ops.goto(`http://127.0.0.1:${stack.httpPort}/admin#audits`);
      const report = ops.locator('#reports-table tr', { hasText: 'spam in chat' });
      await report.waitFor({ timeout: 10_000 });
      // The moderation log is a fetch of its own: the reports table being there does not mean it is.
      for (const action of ['delete_message', 'mute', 'set_admin']) {
        await ops.locator(`#modlog-table tr[data-action="${action}"]`).first().waitFor({ timeout: 10_000 });
        assert.equal(await ops.locator(`#modlog-table tr[data-action="${action}"]`).count(), 1, `the log shows ${action} once`);
      }
      await shot(ops, 'admin-audits');
      await report.locator('button.dismiss').click();
      await until('the report is dismissed', async () => (await ops.locator('#reports-table tr', { hasText: 'spam in chat' }).count()) === 0, 10_000, 200);
      await ops.goto(`http://127.0.0.1:${stack.httpPort}/admin#users`);
      await ops.fill('#users-q', viewerName);
      await ops.press('#users-q', 'Enter');
      const userRow = ops.locator(`#users-table tr[data-user-id="${viewer.id}"]`);
      await userRow.waitFor({ timeout: 10_000 });
      await until('one row', async () => (await ops.locator('#users-table tr').count()) === 1, 10_000, 200);
      const answers = ['50', 'goodwill for the outage'];
      const onDialog = (d: import('playwright-core').Dialog) => void d.accept(answers.shift());
      ops.on('dialog', onDialog);
      await userRow.locator('button.adjust').click();
      await until('the console says the new balance', async () => (await text(ops, '#users-msg')) === `${viewerName}'s balance is now 140.`, 10_000, 200);
      ops.off('dialog', onDialog);
      assert.equal((await stack.call('GET', `/admin/wallets/${viewer.id}`, undefined, op)).body.balance, 140);
      assert.equal(await text(ops, '#admin-error'), '');

      // The show ends: the studio's after-show summary carries its income (10 coins, 30% to the platform).
      assert.equal((await stack.call('POST', '/live/close', { room_id: live.roomId }, anchor.token)).status, 200);
      live.pusher.kill('SIGKILL');
      await until('the studio shows the after-show summary', async () =>
        /income 7 \(1 gift\)/.test(await text(studio, `#summaries tr[data-session-id="${live.sessionId}"] .income`)), 20_000, 500);
      await shot(studio, 'studio-summary');

      // The personal center's notifications: the anchor goes live again and the follower is told.
      await me.goto(`http://127.0.0.1:${stack.httpPort}/me#notifications`);
      await me.locator('#feed-mode').waitFor();
      const start = await stack.call('POST', '/live/start', { room_id: live.roomId }, anchor.token);
      assert.equal(start.status, 200, JSON.stringify(start.body));
      pushers.push(publishLight(stack.fixPort(start.body.push_url)));
      const item = me.locator('#notification-list li[data-kind="live_started"]').first();
      await item.waitFor({ timeout: 40_000 });
      assert.equal(await item.getAttribute('class'), 'unread');
      assert.equal(await text(me, '#unread'), '1');
      assert.equal(await item.locator('a').getAttribute('href'), `/watch/${live.roomId}`);
      console.log(`# notifications arrived ${await me.getAttribute('#feed-mode', 'data-mode')}`);
      await shot(me, 'me-notifications');
      await item.locator('button.mark-read').click();
      await until('read', async () => (await me.locator('#notification-list li[data-kind="live_started"]').first().getAttribute('class')) === 'read', 10_000, 200);
      assert.equal(await me.isVisible('#unread'), false, 'no unread badge');

      await me.goto(`http://127.0.0.1:${stack.httpPort}/me#wallet`);
      await me.locator('#gift-table tr').first().waitFor();
      await shot(me, 'me-wallet');

      // The console's actions on viewer reports while the show runs: Warn (the room's chat says it,
      // the anchor is notified), then Pause for 15 minutes (the show stops: the chat says paused).
      const watch = await room.context().newPage();
      await watch.goto(`http://127.0.0.1:${stack.httpPort}/watch/${live.roomId}`);
      await watch.locator('#conventions-ok').click({ timeout: 2000 }).catch(() => undefined);
      await watch.locator('#chat-form').waitFor({ state: 'visible', timeout: 30_000 });
      assert.equal((await stack.call('POST', `/rooms/${live.roomId}/reports`, { reason: 'anchor swears' }, viewer.token)).status, 201);
      await ops.goto(`http://127.0.0.1:${stack.httpPort}/admin#audits`);
      const swears = ops.locator('#reports-table tr', { hasText: 'anchor swears' });
      await swears.waitFor({ timeout: 10_000 });
      const replies: string[] = ['mind your language'];
      const reply = (d: import('playwright-core').Dialog) => void d.accept(replies.shift());
      ops.on('dialog', reply);
      await swears.locator('button.act-warn').click();
      await until('the console logs the warning', async () => (await ops.locator('#actions-table tr[data-action="warn"]').count()) === 1, 10_000, 200);
      assert.equal(await ops.locator('#reports-table tr', { hasText: 'anchor swears' }).count(), 0, 'the warned report is closed');
      await until('the room chat shows the warning', async () => /warning from the moderators: mind your language/.test(await text(watch, '#chat-list')), 15_000, 200);
      const warned = await stack.call('GET', '/notifications', undefined, anchor.token);
      assert.ok(warned.body.notifications.some((n: { kind: string }) => n.kind === 'moderation_warning'), 'the anchor is notified');
      assert.equal((await stack.call('POST', `/rooms/${live.roomId}/reports`, { reason: 'still swearing' }, viewer.token)).status, 201);
      await ops.reload();
      const still = ops.locator('#reports-table tr', { hasText: 'still swearing' });
      await still.waitFor({ timeout: 10_000 });
      replies.push('second time', '15');
      await still.locator('button.act-pause').click();
      await until('the console logs the pause', async () => (await ops.locator('#actions-table tr[data-action="pause"]').count()) === 1, 10_000, 200);
      ops.off('dialog', reply);
      await until('the room chat says the show is paused', async () => /paused by moderation/.test(await text(watch, '#chat-list')), 20_000, 200);
      const ban = (await stack.call('GET', `/admin/users/${anchor.id}/publish-ban`, undefined, op)).body;
      assert.equal(ban.banned, true);
      const minutes = (Date.parse(ban.until) - Date.now()) / 60_000;
      assert.ok(minutes > 13 && minutes <= 15, `paused for ${minutes} more minutes`);
      const kinds = (await stack.call('GET', `/admin/rooms/${live.roomId}`, undefined, op)).body.moderation.map((m: { kind: string }) => m.kind);
      assert.ok(kinds.includes('warn') && kinds.includes('pause'), `moderation history: ${kinds.join(', ')}`);
      await shot(ops, 'admin-audit-actions', true);

      // The room panel's own Warn (source 'room'): the panel says it, its history shows it, the anchor is notified (the show is paused: no chat to hear it).
      await ops.goto(`http://127.0.0.1:${stack.httpPort}/admin#rooms`);
      await ops.locator(`#rooms-table tr[data-room-id="${live.roomId}"] button`, { hasText: 'Details' }).click();
      const detail = ops.locator('#room-detail');
      await detail.locator('button.act-warn').waitFor({ timeout: 10_000 });
      const once = (d: import('playwright-core').Dialog) => void d.accept('keep it civil');
      ops.once('dialog', once);
      await detail.locator('button.act-warn').click();
      await until('the panel says the warning was recorded', async () => (await text(ops, '#room-detail .room-msg')) === `Warn recorded for room #${live.roomId}.`, 10_000, 200);
      assert.match(await text(ops, '#room-detail .room-history'), /warn: keep it civil/);
      const notes = (await stack.call('GET', '/notifications', undefined, anchor.token)).body.notifications as Array<{ kind: string }>;
      assert.equal(notes.filter((n) => n.kind === 'moderation_warning').length, 2, 'the anchor is notified of the room warning too');
      await shot(ops, 'admin-room-actions', true);
      assert.equal(await text(ops, '#admin-error'), '');
      assert.deepEqual(violations, [], 'no Content-Security-Policy violation');
    });

    it('the personal center works on a phone-sized viewport and in Chinese', async () => {
      const name = `viewer_phone_${process.pid}`;
      await stack.user('viewer', name);
      const p = await loggedIn(name, '/me', { width: 390, height: 844 });
      for (const tab of ['notifications', 'history', 'following', 'fans', 'wallet']) {
        await p.goto(`http://127.0.0.1:${stack.httpPort}/me#${tab}`);
        await p.waitForLoadState('networkidle').catch(() => undefined);
        const overflow = (await p.evaluate('document.documentElement.scrollWidth - window.innerWidth')) as number;
        assert.ok(overflow <= 0, `/me#${tab} scrolls sideways on a phone (${overflow} px)`);
      }
      await p.click('#lang');
      await p.waitForLoadState('load');
      await until('Chinese', async () => (await text(p, 'h2')) === '个人中心');
      assert.equal(await text(p, '#me-tabs a[data-tab="wallet"]'), '钱包');
      await shot(p, 'me-phone-zh');
      assert.equal(await text(p, '#me-error'), '');
      assert.deepEqual(violations, [], 'no Content-Security-Policy violation');
      for (const c of contexts) await c.close();
    });
  });
}
