/**
 * What the browser sweep found on the room page, in Chromium (playwright-core, Debian's
 * /usr/bin/chromium) against the all-in-one stack, the room pushed by ffmpeg:
 *   - a viewer of a room's second show saw "The show has ended." at the top of its chat (the first
 *     show's end, replayed from the room's kept history): the chat now shows only this show's end;
 *   - the chat's text box was squeezed to a few characters beside the colour, position and Send;
 *   - viewers had no way to report (举报) a room or a chat line, though the operators have a reports
 *     queue: a Report button and a ⚑ on others' lines, a reason, POST /rooms/{id}/reports;
 *   - with the server unreachable the page said the browser's "Failed to fetch";
 *   - logging in from the personal center's wallet tab (/me#wallet) landed on the home page.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { textOf as text } from '../../core/testing/chromium.js';
import { until } from './onair-stack.js';
import { moneyEnv, operatorToken, publishLight } from './gifts-kit.js';
import { describeWeb, PASSWORD } from './web-kit.js';

describeWeb('web sweep: the room page', moneyEnv, (web) => {
  const page = (path: string): Promise<Page> => web.open(path, { viewport: { width: 1200, height: 800 } });

  /** A registered user logged in through the login page, which then opens `next`. */
  const loggedIn = (username: string, next: string): Promise<Page> => web.registerAndLogIn(username, next, { viewport: { width: 1200, height: 800 } });

  let pusher: ReturnType<typeof publishLight> | undefined;

  async function show(roomId: string, anchor: { token: string }): Promise<void> {
    const start = await web.stack.call('POST', '/live/start', { room_id: roomId }, anchor.token);
    assert.equal(start.status, 200, JSON.stringify(start.body));
    pusher = web.track(publishLight(web.stack.fixPort(start.body.push_url)));
    await until('the room is live', async () => (await web.stack.call('GET', `/rooms/${roomId}`)).body.is_live === true, 20_000, 100);
  }

  it('second show: no stale "ended" in the chat, a usable text box, reports of the room and of a line, a clear offline message', async () => {
    const anchor = await web.stack.user('anchor');
    const room = await web.stack.call('POST', '/rooms', { title: 'sweep show' }, anchor.token);
    assert.equal(room.status, 201, JSON.stringify(room.body));
    const roomId = room.body.id as string;

    // The first show, ended by the anchor: its end is kept in the room's chat history.
    await show(roomId, anchor);
    assert.equal((await web.stack.call('POST', '/live/close', { room_id: roomId }, anchor.token)).status, 200);
    pusher?.kill('SIGKILL');
    await until('the first show is over', async () => (await web.stack.call('GET', `/rooms/${roomId}`)).body.is_live === false, 20_000, 100);
    const kept = await web.stack.call('GET', `/rooms/${roomId}/chat?limit=50`);
    assert.ok(kept.body.messages.some((m: any) => m.type === 'notice' && m.code === 'live_ended'), 'the first show\'s end is in the history');

    // The second show; a viewer comes in and posts.
    await show(roomId, anchor);
    const a = await loggedIn(`sweep_a_${process.pid}`, `/watch/${roomId}`);
    await a.locator('#conventions-ok').click({ timeout: 2000 }).catch(() => undefined);
    await a.locator('#chat-form').waitFor({ state: 'visible', timeout: 30_000 });
    const mine = `hello from A ${process.pid}`;
    await a.fill('#chat-input', mine);
    await a.press('#chat-input', 'Enter');
    await until('A sees the line', async () => (await a.locator('#chat-list li.msg', { hasText: mine }).count()) === 1, 15_000, 200);
    // The history was replayed before A's own line came back.
    assert.equal(await a.locator('#chat-list li.sys', { hasText: 'The show has ended.' }).count(), 0, `no stale end in the chat: ${await text(a, '#chat-list')}`);
    assert.equal(await text(a, '#state'), 'LIVE');

    const box = (await a.locator('#chat-input').boundingBox())!;
    assert.ok(box.width >= 200, `the chat text box is wide enough to type in (${box.width}px)`);
    assert.equal(await a.locator('#chat-list li.msg', { hasText: mine }).locator('.report-msg').count(), 0, 'no report button on one\'s own line');

    // B posts; A reports B's line with the ⚑ beside it, by keyboard.
    const b = await loggedIn(`sweep_b_${process.pid}`, `/watch/${roomId}`);
    await b.locator('#conventions-ok').click({ timeout: 2000 }).catch(() => undefined);
    await b.locator('#chat-form').waitFor({ state: 'visible', timeout: 30_000 });
    const rude = `rude words from B ${process.pid}`;
    await b.fill('#chat-input', rude);
    await b.click('#chat-send');
    const line = a.locator('#chat-list li.msg', { hasText: rude });
    await until('A sees B\'s line', async () => (await line.count()) === 1, 15_000, 200);
    const messageId = await line.getAttribute('data-id');
    assert.match(messageId ?? '', /^\d+-\d+$/);
    assert.equal(await line.locator('.report-msg').getAttribute('aria-label'), 'Report this message');
    await line.locator('.report-msg').focus();
    await a.keyboard.press('Enter');
    await a.locator('#report-dialog').waitFor({ state: 'visible' });
    assert.equal(await text(a, '#report-title'), 'Report this message');
    assert.equal(await text(a, '#report-quote'), `sweep_b_${process.pid}: ${rude}`);
    assert.equal(await a.evaluate('document.activeElement?.id'), 'report-reason', 'the reason box has the focus');
    await a.keyboard.type('insults');
    await a.click('#report-send');
    await until('A is thanked', async () => (await text(a, '#social-msg')) === 'Thank you: the moderators will look at your report.', 10_000, 200);
    assert.equal(await a.isVisible('#report-dialog'), false, 'the form closed');

    // And the room itself, from the Report button.
    await a.click('#report');
    await a.locator('#report-dialog').waitFor({ state: 'visible' });
    assert.equal(await text(a, '#report-title'), 'Report this room');
    assert.equal(await a.isVisible('#report-quote'), false);
    await a.fill('#report-reason', 'the show breaks the rules');
    await a.click('#report-send');
    await until('A is thanked again', async () => !(await a.isVisible('#report-dialog')), 10_000, 200);

    const op = await operatorToken(web.stack);
    const reports = (await web.stack.call('GET', '/admin/chat/reports?status=open', undefined, op)).body.reports as any[];
    const ofRoom = reports.filter((r) => r.room_id === roomId);
    assert.deepEqual(ofRoom.map((r) => [r.reason, r.message_id]).sort(), [['insults', messageId], ['the show breaks the rules', null]].sort());

    // Anonymous: asked to log in.
    const c = await page(`/watch/${roomId}`);
    await c.locator('#conventions-ok').click({ timeout: 2000 }).catch(() => undefined);
    await c.click('#report');
    assert.equal(await text(c, '#social-msg'), 'Log in to report.');
    assert.equal(await c.isVisible('#report-dialog'), false);

    // The API unreachable (a restart): said in words, and the page comes back by itself.
    await a.route('**/api/v1/rooms/*', (r) => r.abort('connectionrefused'));
    await until('A is told the server cannot be reached', async () => (await text(a, '#status')) === 'Error: the server cannot be reached', 15_000, 200);
    await a.unroute('**/api/v1/rooms/*');
    await until('the page recovers', async () => !/Error/.test(await text(a, '#status')), 15_000, 200);

    assert.deepEqual(web.violations, [], 'no Content-Security-Policy violation');
  });

  it('logging in from the wallet tab of the personal center comes back to the wallet', async () => {
    const username = `sweep_w_${process.pid}`;
    assert.equal((await web.stack.call('POST', '/auth/register', { username, password: PASSWORD, role: 'viewer' })).status, 201);
    const p = await page('/me#wallet');
    await p.click('#panel a');
    await p.waitForURL((u) => u.pathname === '/login');
    await p.fill('#login-username', username);
    await p.fill('#login-password', PASSWORD);
    await p.click('#login-submit');
    await p.waitForURL((u) => u.pathname === '/me');
    assert.equal(new URL(p.url()).hash, '#wallet');
    await p.locator('#wallet-balance').waitFor();
    assert.equal(await text(p, '#wallet-balance'), '0');
  });
});
