/**
 * Browser tests of the web pages, in Chromium (playwright-core driving Debian's /usr/bin/chromium):
 *   - servePages/signedIn: the pages in front of an in-process control (control-kit's makeKit), as
 *     onair.ts serves them (the web handler first, then control's API and its sockets), for tests
 *     that need no media;
 *   - describeWeb: the all-in-one stack on each adapter set with one Chromium, pages watched for
 *     Content-Security-Policy violations, log-in through the login page, and everything (contexts,
 *     ffmpeg pushers, the browser, the stack) closed after; skipped without ffmpeg or chromium.
 */
import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import type { Control } from '../../control/main.js';
import { createWebHandler } from '../../web/serve.js';
import { missingTool } from '../../core/testing/tools.js';
import { launchChromium, missingChromium, watchCsp } from '../../core/testing/chromium.js';
import { stackAdapterSets, startStack, type Stack, type StackAdapters } from './onair-stack.js';

export async function servePages(control: Pick<Control, 'handle' | 'handleUpgrade'>): Promise<{ base: string; close(): Promise<void> }> {
  const web = createWebHandler({ mediaOrigins: [] });
  const server: Server = createServer((req, res) => web(req, res, () => control.handle(req, res)));
  // Upgraded sockets leave the HTTP server's bookkeeping (closeAllConnections does not see them) but
  // still hold server.close(): a test that failed before closing its browser pages would hang in
  // close() until the runner killed the file, with no report of the failure (CI, 300 s).
  const upgraded = new Set<Duplex>();
  server.on('upgrade', (req, socket: Duplex, head: Buffer) => {
    upgraded.add(socket);
    socket.once('close', () => upgraded.delete(socket));
    if (!control.handleUpgrade(req, socket, head)) socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      for (const socket of upgraded) socket.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** A browser context signed in as `user` (what the login page stores), in English. */
export async function signedIn(browser: Browser, user: { id: string; username: string; role: string; auth: { Authorization: string } }): Promise<BrowserContext> {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1200, height: 900 } });
  const token = user.auth.Authorization.slice('Bearer '.length);
  await context.addInitScript(`try {
    if (!localStorage.getItem('onair.token')) {
      localStorage.setItem('onair.token', ${JSON.stringify(token)});
      localStorage.setItem('onair.user', ${JSON.stringify(JSON.stringify({ id: user.id, username: user.username, role: user.role }))});
    }
  } catch { /* about:blank has no storage */ }`);
  return context;
}

/** The password the browser tests register their users with. */
export const PASSWORD = 'correct-horse-battery';

/** The pages a browser test drives on a stack of its own (describeWeb), valid inside its tests. */
export interface WebSession {
  readonly stack: Stack;
  readonly browser: Browser;
  /** Content-Security-Policy violations of every page opened with open() or watch(); tests assert it stays empty. */
  readonly violations: string[];
  /** The stack's address for `path` ('/watch/1'). */
  url(path: string): string;
  /** A browser context (English unless `options` say otherwise), closed after the tests. */
  context(options?: BrowserContextOptions): Promise<BrowserContext>;
  /** `page` with its CSP violations recorded under `label`. */
  watch(page: Page, label: string): Page;
  /**
   * A page at `path`, watched for CSP violations: in `where` when it is a context, else in a new
   * context made with `where` as its options.
   */
  open(path: string, where?: BrowserContext | BrowserContextOptions): Promise<Page>;
  /** Logs `username` in through the login page (/login?next=`next`) and waits for `next`'s page. */
  logIn(username: string, next: string, where?: BrowserContext | BrowserContextOptions, password?: string): Promise<Page>;
  /** Registers `username` (PASSWORD) through the API, then logIn(). */
  registerAndLogIn(username: string, next: string, where?: BrowserContext | BrowserContextOptions): Promise<Page>;
  /** A child (an ffmpeg pusher) killed after the tests. */
  track<T extends ChildProcess>(child: T): T;
}

/** Why browser tests on the stack cannot run here (ffmpeg or chromium missing), else false. */
export function missingWebTools(): string | false {
  return missingTool('ffmpeg') || missingChromium();
}

/**
 * `describe(\`${title} (${adapters.name})\`)` on each adapter set (none when ffmpeg or chromium is
 * missing) around a stack started with `env` and one Chromium; `body` declares the tests, which use
 * `web` (filled in before they run).
 */
export function describeWeb(title: string, env: Record<string, string>, body: (web: WebSession, adapters: StackAdapters) => void): void {
  for (const adapters of missingWebTools() ? [] : stackAdapterSets()) {
    describe(`${title} (${adapters.name})`, () => {
      let stack: Stack | undefined;
      let browser: Browser | undefined;
      let cleanup: (() => Promise<void>) | undefined;
      const contexts: BrowserContext[] = [];
      const children: ChildProcess[] = [];
      const violations: string[] = [];
      const live = <T>(what: T | undefined, name: string): T => {
        if (what === undefined) throw new Error(`${name} is not started (used outside a test?)`);
        return what;
      };
      const web: WebSession = {
        get stack() { return live(stack, 'the stack'); },
        get browser() { return live(browser, 'the browser'); },
        violations,
        url: (path) => `http://127.0.0.1:${web.stack.httpPort}${path}`,
        async context(options = {}) {
          const context = await web.browser.newContext({ locale: 'en-US', ...options });
          contexts.push(context);
          return context;
        },
        watch: (page, label) => watchCsp(page, violations, label),
        async open(path, where) {
          const context = where && 'newPage' in where ? where : await web.context(where);
          const page = web.watch(await context.newPage(), path);
          await page.goto(web.url(path));
          return page;
        },
        async logIn(username, next, where, password = PASSWORD) {
          const page = await web.open(`/login?next=${encodeURIComponent(next)}`, where);
          await page.fill('#login-username', username);
          await page.fill('#login-password', password);
          await page.click('#login-submit');
          await page.waitForURL((u) => u.pathname === next.split(/[?#]/)[0]);
          return page;
        },
        async registerAndLogIn(username, next, where) {
          const registered = await web.stack.call('POST', '/auth/register', { username, password: PASSWORD, role: 'viewer' });
          assert.equal(registered.status, 201, JSON.stringify(registered.body));
          return web.logIn(username, next, where);
        },
        track(child) {
          children.push(child);
          return child;
        },
      };

      before(async () => {
        const set = await adapters.env();
        cleanup = set.cleanup;
        stack = await startStack({ ...set.env, ...env });
        browser = await launchChromium();
      });

      after(async () => {
        for (const child of children) child.kill('SIGKILL');
        for (const context of contexts) await context.close().catch(() => undefined);
        await browser?.close();
        await stack?.close();
        await cleanup?.();
      });

      body(web, adapters);
    });
  }
}
