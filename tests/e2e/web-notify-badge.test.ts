/**
 * The header's unread notifications badge on every page (not only /me), in Chromium against
 * control's pages and API served in-process: an operator warns the anchor twice (the console's
 * warn: a notification pushed on /ws/notification) and the badge on the home page grows live,
 * from the socket's frames; the studio's header shows the same count; "Mark all read" in the
 * personal center clears it there and, live, on the other pages.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, missingChromium, watchCsp } from '../../core/testing/chromium.js';
import { testAdapterSets } from '../../core/testing/test-ports.js';
import { waitFor } from '../../core/testing/wait-for.js';
import { makeKit } from '../../control/testing/control-kit.js';
import { servePages, signedIn } from './web-kit.js';

const skip = missingChromium();
const shots = process.env.ONAIR_SCREENSHOTS_DIR;
/** With ONAIR_SCREENSHOTS_DIR set (npm run screenshots) the page is saved there as a PNG, from the embedded adapters' run. */
async function shot(set: string, page: Page, name: string): Promise<void> {
  if (!shots || set !== 'embedded') return;
  mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: join(shots, `${name}.png`) });
}

describe('Chromium: the unread notifications badge in every page header', { skip }, () => {
  let browser: Browser;
  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });

  for (const set of testAdapterSets()) {
    it(`on ${set.name}`, async () => {
      const kit = await makeKit(set);
      const pages = await servePages(kit.control);
      const violations: string[] = [];
      let context: BrowserContext | undefined;
      try {
        const op = await kit.operator();
        const anchor = await kit.anchorWithRoom('Badge show');
        const warn = async (reason: string) => {
          await kit.http.post('/api/v1/admin/moderation/actions').set(op.auth).send({ action: 'warn', source: 'room', source_id: anchor.roomId, reason }).expect(201);
        };
        const ctx = (context = await signedIn(browser, { ...anchor, username: 'anchor', role: 'anchor' }));
        const open = async (path: string): Promise<{ page: Page; frames: string[] }> => {
          const page = watchCsp(await ctx.newPage(), violations, path);
          const frames: string[] = [];
          page.on('websocket', (ws) => {
            if (ws.url().includes('/ws/notification')) ws.on('framereceived', (f) => frames.push(String(f.payload)));
          });
          await page.goto(`${pages.base}${path}`);
          return { page, frames };
        };
        const badge = async (page: Page) => ((await page.isVisible('#nav-unread')) ? ((await page.textContent('#nav-unread')) ?? '').trim() : '');

        const home = await open('/');
        await home.page.locator('#nav-unread').waitFor({ state: 'attached', timeout: 10_000 });
        await waitFor('the header feed opened its socket', () => home.frames.some((f) => f.includes('"type":"unread"')), 15_000, 100);
        assert.equal(await badge(home.page), '', 'nothing unread: no badge');

        await warn('first warning');
        await waitFor('the home page badge says 1', async () => (await badge(home.page)) === '1', 10_000, 100);
        assert.ok(home.frames.some((f) => f.includes('"type":"notification"') && f.includes('moderation_warning')), 'the notification came over the socket');

        const studio = await open('/studio');
        await waitFor('the studio badge says 1', async () => (await badge(studio.page)) === '1', 10_000, 100);
        await warn('second warning');
        await waitFor('both badges say 2', async () => (await badge(home.page)) === '2' && (await badge(studio.page)) === '2', 10_000, 100);
        await shot(set.name, studio.page, 'header-badge');

        const me = await open('/me#notifications');
        await waitFor('the personal center lists both', async () => (await me.page.locator('#notification-list li.unread').count()) === 2, 10_000, 100);
        assert.equal(await badge(me.page), '2');
        await me.page.click('#read-all');
        await waitFor('the badge is gone on /me', async () => (await badge(me.page)) === '', 10_000, 100);
        await waitFor('and, live, on the other pages', async () => (await badge(home.page)) === '' && (await badge(studio.page)) === '', 10_000, 100);
        await studio.page.reload();
        await studio.page.locator('#nav-unread').waitFor({ state: 'attached', timeout: 10_000 });
        await waitFor('the studio reloads with no badge', () => studio.frames.some((f) => f.includes('"type":"unread"')), 15_000, 100);
        assert.equal(await badge(studio.page), '');
        assert.deepEqual(violations, [], 'no Content-Security-Policy violation');
      } finally {
        await context?.close();
        await pages.close();
        await kit.close();
      }
    });
  }
});
