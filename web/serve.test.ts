import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createWebHandler } from './serve.js';

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
    ['/watch/1234', 'text/html', /play-token/],
    ['/test-player.html?flv=x', 'text/html', /playerState/],
    ['/player.js', 'text/javascript', /export async function play/],
    ['/app.css', 'text/css', /video/],
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
});
