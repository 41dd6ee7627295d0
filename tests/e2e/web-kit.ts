/**
 * Pages in front of an in-process control (control-kit's makeKit), as onair.ts serves them: the
 * web handler first, then control's API and its sockets. For browser tests that need no media.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Browser, BrowserContext } from 'playwright-core';
import type { Control } from '../../control/main.js';
import { createWebHandler } from '../../web/serve.js';

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
