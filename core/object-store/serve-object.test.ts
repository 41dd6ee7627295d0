import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { NotFoundError } from '../errors.js';
import { testObjectStores } from '../testing/test-object-stores.js';
import type { ObjectStore } from './object-store.port.js';
import { parseRange, sendObject } from './serve-object.js';

describe('parseRange', () => {
  const size = 1000;
  const table: Array<[string | undefined, ReturnType<typeof parseRange>]> = [
    [undefined, undefined],
    ['bytes=0-99', { start: 0, end: 99 }],
    ['bytes=990-', { start: 990, end: 999 }],
    ['bytes=995-5000', { start: 995, end: 999 }],
    ['bytes=-10', { start: 990, end: 999 }],
    ['bytes=-5000', { start: 0, end: 999 }],
    ['BYTES = 5 - 6', { start: 5, end: 6 }],
    ['bytes=1000-', 'unsatisfiable'],
    ['bytes=-0', 'unsatisfiable'],
    ['bytes=10-5', undefined],
    ['bytes=0-1,5-6', undefined],
    ['items=0-1', undefined],
    ['bytes=-', undefined],
    ['bytes=abc', undefined],
  ];
  for (const [header, expected] of table) {
    it(`${JSON.stringify(header)} -> ${JSON.stringify(expected)}`, () => assert.deepEqual(parseRange(header, size), expected));
  }
  it('an empty object satisfies no range', () => {
    assert.equal(parseRange('bytes=0-', 0), 'unsatisfiable');
    assert.equal(parseRange('bytes=-1', 0), 'unsatisfiable');
  });
});

const factories = testObjectStores();
after(() => Promise.all(factories.map((f) => f.close())));

for (const factory of factories) {
  describe(`sendObject over HTTP, on ${factory.name}`, () => {
    let store: ObjectStore;
    let close: () => Promise<void>;
    let server: http.Server;
    let base: string;
    const data = randomBytes(300_000);

    before(async () => {
      ({ store, close } = await factory.make());
      await store.put('v/show.mp4', { bytes: data });
      await store.put('v/empty.txt', { bytes: new Uint8Array(0) });
      server = http.createServer((req, res) => {
        const url = new URL(req.url!, 'http://x');
        const key = url.pathname.slice(1);
        const downloadName = url.searchParams.get('name') ?? undefined;
        sendObject(store, key, req, res, { downloadName, cacheControl: 'private, max-age=60' }).catch((err: unknown) => {
          res.writeHead(err instanceof NotFoundError ? 404 : 500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { code: (err as NotFoundError).code ?? 'internal', message: String(err) } }));
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(async () => {
      server.close();
      await close();
    });

    const get = (path: string, headers: Record<string, string> = {}, method = 'GET') => fetch(`${base}/${path}`, { headers, method });

    it('serves the whole object with its headers', async () => {
      const res = await get('v/show.mp4');
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('accept-ranges'), 'bytes');
      assert.equal(res.headers.get('content-type'), 'video/mp4');
      assert.equal(res.headers.get('content-length'), String(data.length));
      assert.equal(res.headers.get('cache-control'), 'private, max-age=60');
      assert.match(res.headers.get('etag') ?? '', /^".+"$/);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), data);
    });

    it('answers one range with 206, a suffix range, and an open one', async () => {
      const a = await get('v/show.mp4', { range: 'bytes=1000-1999' });
      assert.equal(a.status, 206);
      assert.equal(a.headers.get('content-range'), `bytes 1000-1999/${data.length}`);
      assert.equal(a.headers.get('content-length'), '1000');
      assert.deepEqual(Buffer.from(await a.arrayBuffer()), data.subarray(1000, 2000));
      const b = await get('v/show.mp4', { range: 'bytes=-10' });
      assert.deepEqual(Buffer.from(await b.arrayBuffer()), data.subarray(-10));
      const c = await get('v/show.mp4', { range: `bytes=${data.length - 5}-` });
      assert.equal(c.headers.get('content-range'), `bytes ${data.length - 5}-${data.length - 1}/${data.length}`);
      assert.deepEqual(Buffer.from(await c.arrayBuffer()), data.subarray(-5));
    });

    it('416 past the end, with Content-Range and a JSON error; several ranges or a malformed one get the whole object', async () => {
      const past = await get('v/show.mp4', { range: `bytes=${data.length}-` });
      assert.equal(past.status, 416);
      assert.equal(past.headers.get('content-range'), `bytes */${data.length}`);
      assert.equal(((await past.json()) as { error: { code: string } }).error.code, 'range_not_satisfiable');
      for (const range of ['bytes=0-1,5-6', 'bytes=9-3', 'pages=1']) {
        const res = await get('v/show.mp4', { range });
        assert.equal(res.status, 200, range);
        assert.equal((await res.arrayBuffer()).byteLength, data.length);
      }
    });

    it('HEAD, If-None-Match (304) and If-Range', async () => {
      const head = await get('v/show.mp4', {}, 'HEAD');
      assert.equal(head.status, 200);
      assert.equal(head.headers.get('content-length'), String(data.length));
      assert.equal((await head.arrayBuffer()).byteLength, 0);
      const etag = head.headers.get('etag')!;
      assert.equal((await get('v/show.mp4', { 'if-none-match': etag })).status, 304);
      assert.equal((await get('v/show.mp4', { 'if-none-match': '"other"' })).status, 200);
      const stale = await get('v/show.mp4', { range: 'bytes=0-9', 'if-range': '"other"' });
      assert.equal(stale.status, 200, 'a changed object: the whole of it');
      await stale.arrayBuffer();
      assert.equal((await get('v/show.mp4', { range: 'bytes=0-9', 'if-range': etag })).status, 206);
    });

    it('a download name, an empty object, and a missing one (NotFoundError for the error handler)', async () => {
      const named = await get('v/show.mp4?name=My%20show.mp4', { range: 'bytes=0-0' });
      assert.equal(named.headers.get('content-disposition'), `attachment; filename="My show.mp4"; filename*=UTF-8''My%20show.mp4`);
      const empty = await get('v/empty.txt');
      assert.equal(empty.status, 200);
      assert.equal(empty.headers.get('content-length'), '0');
      const missing = await get('v/none.mp4');
      assert.equal(missing.status, 404);
      assert.equal(((await missing.json()) as { error: { code: string } }).error.code, 'not_found');
    });

    it('a client that leaves mid-body is not an error, and the server carries on', async () => {
      for (let i = 0; i < 5; i++) {
        const ac = new AbortController();
        const res = await fetch(`${base}/v/show.mp4`, { signal: ac.signal });
        const reader = res.body!.getReader();
        await reader.read();
        ac.abort();
      }
      const res = await get('v/show.mp4', { range: 'bytes=0-3' });
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), data.subarray(0, 4));
    });
  });
}
