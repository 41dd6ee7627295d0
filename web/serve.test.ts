import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWebHandler, WEB_ASSETS } from './serve.js';
import { objectStoreOrigin } from '../core/http/security-headers.js';

describe(createWebHandler.name, () => {
  let server: Server;
  let base: string;
  before(async () => {
    const web = createWebHandler();
    server = createServer((req, res) => web(req, res, () => res.writeHead(418).end()));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise((r) => server.close(r)));

  const pages: [string, string, RegExp][] = [
    ['/', 'text/html', /Live now/],
    ['/watch/1234', 'text/html', /src="\/watch\.js"/],
    ['/test-player.html?flv=x', 'text/html', /src="\/test-player\.js"/],
    ['/watch.js', 'text/javascript', /play-token/],
    ['/room-chat.js', 'text/javascript', /\/ws\/live\//],
    ['/room-gifts.js', 'text/javascript', /client_order_id/],
    ['/me', 'text/html', /src="\/me\.js"/],
    ['/me.js', 'text/javascript', /startNotifications/],
    ['/notifications.js', 'text/javascript', /\/ws\/notification/],
    ['/room-social.js', 'text/javascript', /keepalive: true/],
    ['/studio-chat.js', 'text/javascript', /slow-mode/],
    ['/test-player.js', 'text/javascript', /playerState/],
    ['/rooms.js', 'text/javascript', /live=1/],
    ['/player.js', 'text/javascript', /export async function play/],
    ['/app.css', 'text/css', /video/],
    ['/favicon.svg', 'image/svg\\+xml', /<svg/],
    ['/favicon.ico', 'image/svg\\+xml', /<svg/],
    ['/vendor/mpegts.js', 'text/javascript', /mpegts/],
    ['/vendor/hls.js', 'text/javascript', /Hls/],
  ];
  for (const [path, type, body] of pages) {
    it(`serves ${path}`, async () => {
      const res = await fetch(base + path);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type')!, new RegExp(type));
      assert.match(await res.text(), body);
    });
  }

  it('passes everything else on, including traversal attempts and its own source', async () => {
    for (const path of ['/api/v1/rooms', '/serve.ts', '/..%2Fpackage.json', '/vendor/../package.json', '/watch/../../etc/passwd', '/watch/a%2Fb', '/x/y.html']) {
      const res = await fetch(base + path);
      assert.equal(res.status, 418, path);
      await res.text();
    }
    const post = await fetch(`${base}/`, { method: 'POST' });
    assert.equal(post.status, 418);
  });

  it('sends the security headers with every page and asset: CSP, no framing, no referrer', async () => {
    for (const path of ['/', '/watch/1234', '/test-player.html', '/player.js', '/vendor/hls.js']) {
      const res = await fetch(base + path);
      await res.text();
      const csp = res.headers.get('content-security-policy') ?? '';
      assert.match(csp, /default-src 'self'/, path);
      assert.match(csp, /script-src 'self'(;|$)/, `${path}: no inline or remote script`);
      assert.match(csp, /worker-src 'self' blob:/, `${path}: hls.js runs its worker from a blob: URL`);
      assert.match(csp, /media-src 'self' blob:/, `${path}: Media Source playback uses blob: URLs`);
      assert.match(csp, /frame-ancestors 'none'/, path);
      assert.doesNotMatch(csp, /upgrade-insecure-requests/, `${path}: onair may run on plain HTTP`);
      assert.equal(res.headers.get('x-frame-options'), 'DENY', path);
      assert.equal(res.headers.get('referrer-policy'), 'no-referrer', path);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', path);
      assert.equal(res.headers.get('strict-transport-security'), null, `${path}: HSTS is the TLS terminator's call`);
    }
  });

  it('pages carry no inline script (the CSP would block it)', async () => {
    for (const path of ['/', '/watch/1234', '/test-player.html', '/me', '/studio']) {
      const html = await (await fetch(base + path)).text();
      for (const tag of html.match(/<script\b[^>]*>/g) ?? []) assert.match(tag, /\ssrc="\/[a-z-]+\.js"/, `${path}: ${tag}`);
    }
  });
});

describe('the object store origin in the pages CSP', () => {
  it('allows images and video (never scripts) from the origin given, and derives it from the S3 target', async () => {
    const web = createWebHandler({ mediaOrigins: [objectStoreOrigin({ endPoint: 'minio.internal', port: 9000, useSSL: false, publicEndpoint: { endPoint: 'media.example.com', port: 443, useSSL: true } })!] });
    const server = createServer((req, res) => web(req, res, () => res.writeHead(418).end()));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/watch/1`);
      await res.text();
      const csp = res.headers.get('content-security-policy') ?? '';
      assert.match(csp, /img-src 'self' data: blob: https:\/\/media\.example\.com(;|$)/);
      assert.match(csp, /media-src 'self' blob: https:\/\/media\.example\.com(;|$)/);
      assert.match(csp, /script-src 'self'(;|$)/);
    } finally {
      await new Promise((r) => server.close(r));
    }
    assert.equal(objectStoreOrigin({ endPoint: '127.0.0.1', port: 9000, useSSL: false }), 'http://127.0.0.1:9000');
    assert.equal(objectStoreOrigin({ endPoint: '::1', port: 443, useSSL: true }), 'https://[::1]');
    assert.equal(objectStoreOrigin(undefined), undefined);
  });
});

describe('createWebHandler serves only the web assets', () => {
  it('never serves other files of its folder, such as the compiled server code next to the pages in dist/web', async () => {
    // dist/web holds the pages and serve.js (the compiled handler): build that layout.
    const root = mkdtempSync(join(tmpdir(), 'onair-web-'));
    const source = new URL('.', import.meta.url).pathname;
    for (const f of readdirSync(source)) if (/\.(html|js|css|svg)$/.test(f)) copyFileSync(join(source, f), join(root, f));
    for (const f of ['serve.js', 'serve.test.js', 'secret.js', 'notes.html', 'config.css']) writeFileSync(join(root, f), '// server code');
    const web = createWebHandler({ root });
    const server = createServer((req, res) => web(req, res, () => res.writeHead(418).end()));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      for (const path of ['/serve.js', '/serve.test.js', '/secret.js', '/notes.html', '/config.css']) {
        const res = await fetch(url + path);
        assert.equal(res.status, 418, `${path} must not be served`);
        await res.text();
      }
      for (const name of WEB_ASSETS) assert.equal((await fetch(`${url}/${name}`)).status, 200, name);
    } finally {
      await new Promise((r) => server.close(r));
      rmSync(root, { recursive: true, force: true });
    }
  });
});
