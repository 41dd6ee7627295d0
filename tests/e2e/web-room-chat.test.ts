/**
 * The room page's chat, danmaku, gifts and likes in Chromium (playwright-core, Debian's
 * /usr/bin/chromium) against the all-in-one stack, a room pushed by ffmpeg, sandbox payments:
 *   viewer A (logged in through /login) and viewer B (anonymous, another browser context) open the
 *   room; B can read but not post; A posts a line, B sees it in the chat and crossing the video;
 *   an operator creates a gift; A's send without coins says "not enough coins"; A recharges
 *   (sandbox), sends the gift twice, and B sees one gift line growing to a ×2 combo; A likes and B
 *   sees the count. No CSP violation on the way.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { missingTool } from '../../core/testing/tools.js';
import { launchChromium, missingChromium, textOf as text, watchCsp } from '../../core/testing/chromium.js';
import { stackAdapterSets, startStack, until, type Stack } from './onair-stack.js';
import { liveRoom, moneyEnv, operatorToken, recharge } from './gifts-kit.js';

const skip = missingTool('ffmpeg') || missingChromium();

for (const adapters of skip ? [] : stackAdapterSets()) {
  describe(`web room chat and gifts (${adapters.name})`, () => {
    let stack: Stack;
    let cleanup: () => Promise<void>;
    let browser: Browser;
    let pusher: ChildProcess | undefined;
    const violations: string[] = [];
    const contexts: BrowserContext[] = [];

    before(async () => {
      const env = await adapters.env();
      cleanup = env.cleanup;
      stack = await startStack({ ...env.env, ...moneyEnv });
      browser = await launchChromium();
    });

    after(async () => {
      pusher?.kill('SIGKILL');
      await browser?.close();
      await stack?.close();
      await cleanup?.();
    });

    async function page(path: string): Promise<Page> {
      const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1200, height: 800 } });
      contexts.push(context);
      const p = watchCsp(await context.newPage(), violations, path);
      await p.goto(`http://127.0.0.1:${stack.httpPort}${path}`);
      return p;
    }


    it('A posts, B (anonymous) sees it in the chat and as danmaku; gifts with a combo; insufficient coins said; likes', async () => {
      const anchor = await stack.user('anchor');
      const live = await liveRoom(stack, anchor);
      pusher = live.pusher;
      const op = await operatorToken(stack);
      const gift = await stack.call('POST', '/admin/gifts', { name: 'Rose', price: 10 }, op);
      assert.equal(gift.status, 201, JSON.stringify(gift.body));

      // Viewer A: a registered user who logs in through the login page.
      const userA = `viewer_a_${process.pid}`;
      assert.equal((await stack.call('POST', '/auth/register', { username: userA, password: 'correct-horse-battery', role: 'viewer' })).status, 201);
      const a = await page(`/login?next=/watch/${live.roomId}`);
      await a.fill('#login-username', userA);
      await a.fill('#login-password', 'correct-horse-battery');
      await a.click('#login-submit');
      await a.waitForURL((u) => u.pathname === `/watch/${live.roomId}`);
      const b = await page(`/watch/${live.roomId}`);
      for (const p of [a, b]) {
        // The room rules dialog (when set) must not hide the page.
        await p.locator('#conventions-ok').click({ timeout: 2000 }).catch(() => undefined);
      }

      await a.locator('#chat-form').waitFor({ state: 'visible', timeout: 30_000 });
      await b.locator('#chat-readonly').waitFor({ state: 'visible', timeout: 30_000 });
      assert.equal(await text(b, '#chat-readonly'), 'Log in to chat.', 'the anonymous viewer reads only');
      assert.equal(await b.isVisible('#chat-form'), false);

      // A posts; B sees the line in the list and crossing the video.
      const line = `hello from A ${process.pid}`;
      let sawDanmaku = false;
      const watchDanmaku = until('B sees the danmaku over the video', async () => {
        sawDanmaku = ((await b.locator('#danmaku .dm', { hasText: line }).count()) > 0);
        return sawDanmaku;
      }, 20_000, 100);
      await a.fill('#chat-input', line);
      await a.click('#chat-send');
      await until('B sees the chat line', async () => (await b.locator('#chat-list li.msg', { hasText: line }).count()) === 1, 15_000, 200);
      assert.equal(await text(b, `#chat-list li.msg:has-text("${line}") b`), `${userA}:`);
      await watchDanmaku;
      assert.equal(await a.inputValue('#chat-input'), '', 'the post box is cleared');
      assert.equal(await a.locator('#chat-list li.msg', { hasText: line }).count(), 1, 'A sees their own line once');

      // A picks a colour and the top position next to the input: B's danmaku is red, fixed at the top.
      const styled = `red on top ${process.pid}`;
      let seen: { color: string; position: string | undefined } | null = null;
      const watchStyled = until('B sees the styled danmaku', async () => {
        const dm = b.locator('#danmaku .dm.fixed', { hasText: styled });
        if ((await dm.count()) === 0) return false;
        seen = await dm.first().evaluate((el) => ({ color: (globalThis as any).getComputedStyle(el).color as string, position: (el as any).dataset.position as string | undefined }));
        return true;
      }, 20_000, 100);
      await a.fill('#chat-color', '#ff0000');
      await a.selectOption('#chat-position', 'top');
      await a.fill('#chat-input', styled);
      await a.click('#chat-send');
      await watchStyled;
      assert.deepEqual(seen, { color: 'rgb(255, 0, 0)', position: 'top' });
      await a.fill('#chat-color', '#ffffff');
      await a.selectOption('#chat-position', 'scroll');

      // Gifts: none is affordable without coins, then a recharge, then a combo of two.
      const button = `#gift-bar button[data-gift-id="${gift.body.id}"]`;
      await a.locator(button).waitFor();
      assert.equal(await text(a, '#balance'), 'Balance: 0 coins');
      await a.click(button);
      await until('A is told there are not enough coins', async () =>
        (await text(a, '#gift-msg')) === 'Not enough coins: recharge your wallet first.', 10_000, 200);
      const login = await stack.call('POST', '/auth/login', { username: userA, password: 'correct-horse-battery' });
      await recharge(stack, login.body.token, 100);
      await a.click(button);
      await until('the first gift is sent', async () => (await text(a, '#gift-msg')) === 'You sent Rose.', 10_000, 200);
      await until('B sees the gift', async () => (await b.locator('#chat-list li.gift', { hasText: 'sent Rose ×1' }).count()) === 1, 15_000, 200);
      await a.click(button);
      await until('B sees the combo grow on the same line', async () =>
        /sent Rose ×1 · combo ×2$/.test(await text(b, '#chat-list li.gift')) && (await b.locator('#chat-list li.gift').count()) === 1, 15_000, 200);
      await until('A sees the balance after two gifts', async () => (await text(a, '#balance')) === 'Balance: 80 coins', 10_000, 200);

      // A likes; the room's like total reaches B over the socket.
      await a.click('#like');
      await until('B sees the like', async () => (await text(b, '#likes')) === '1 like', 20_000, 250);

      // A opens the room in a second tab: one chat socket per viewer, the newer wins (close 4005), and the
      // older tab says so instead of reconnecting (two tabs would otherwise take the socket from each other).
      const a2 = await a.context().newPage();
      await a2.goto(`http://127.0.0.1:${stack.httpPort}/watch/${live.roomId}`);
      await a2.locator('#conventions-ok').click({ timeout: 2000 }).catch(() => undefined);
      await a2.locator('#chat-form').waitFor({ state: 'visible', timeout: 30_000 });
      await until('the first tab says its chat moved', async () => (await text(a, '#chat-state')) === 'chat continues in your other window', 15_000, 200);
      await new Promise((r) => setTimeout(r, 3000));
      assert.equal(await text(a, '#chat-state'), 'chat continues in your other window', 'the first tab did not reconnect');
      const second = `from the second tab ${process.pid}`;
      await a2.fill('#chat-input', second);
      await a2.click('#chat-send');
      await until('B sees the second tab\'s line', async () => (await b.locator('#chat-list li.msg', { hasText: second }).count()) === 1, 15_000, 200);

      assert.deepEqual(violations, [], 'no Content-Security-Policy violation');
      for (const c of contexts) await c.close();
    });
  });
}
