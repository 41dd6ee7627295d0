import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { InvalidStateError, NotFoundError, ValidationError } from '../errors.js';
import type { ObjectStore } from './object-store.port.js';
import { sendObject } from './serve-object.js';

const MiB = 1024 * 1024;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function isCode(code: string) {
  return (err: unknown) => err instanceof ValidationError && err.code === code;
}

/** The keys both adapters refuse, and some they accept: one table, so they can never drift apart. */
export const BAD_KEYS = [
  '', '/abs', 'a/../b', '..', '.', 'a/./b', 'a//b', 'a\\b', 'trailing/', '.hidden', 'a/.meta/x', 'x'.repeat(1025),
  'spaces here', 'ünïcode', 'a?b', 'a#b', 'nul\u0000byte', 'line\nbreak', `${'s'.repeat(251)}/x`, 'a%2Fb', '~home',
];
// 230, not the 250 the rule allows: s3rver adds '._S3rver_metadata.json' to file names (the local test checks 250).
export const GOOD_KEYS = ["rec/2024-05-01/room_1/show(1).mp4", "a!b*c'd", 'x'.repeat(230), 'posters/1.jpg', 'UPPER/lower-123_.x'];

/** The plumbing a contract run needs: a fresh store, and the cleanup. */
export type MakeStore = () => Promise<{ store: ObjectStore; close(): Promise<void> }>;

/**
 * The behaviour every ObjectStore adapter shares. `make` is called once; the suite keeps to keys
 * of its own. Multipart sizes: give the MinIO store a 5 MiB part size so the 10 MiB objects here
 * go up in three parts.
 */
export function describeObjectStoreContract(name: string, make: MakeStore): void {
  describe(`ObjectStore contract: ${name}`, () => {
    let store: ObjectStore;
    let done: () => Promise<void>;
    let n = 0;
    const key = (label: string) => `contract/${++n}-${label}`;

    before(async () => {
      ({ store, close: done } = await make());
    });
    after(async () => {
      await done();
    });

    it('puts from bytes, a stream and a file, and gets the same bytes back with their size, type and checksum', async () => {
      const data = randomBytes(200_000);
      const file = join(mkdtempSync(join(tmpdir(), 'onair-put-')), 'show.mp4');
      writeFileSync(file, data);
      const sources = [
        { k: key('bytes.mp4'), source: { bytes: data } },
        { k: key('stream.mp4'), source: { stream: Readable.from([data.subarray(0, 1000), data.subarray(1000)]), size: data.length } },
        { k: key('file.mp4'), source: { file } },
      ];
      for (const { k, source } of sources) {
        const stored = await store.put(k, source);
        assert.equal(stored.key, k);
        assert.equal(stored.size, data.length);
        assert.equal(stored.md5, md5(data));
        assert.equal(stored.contentType, 'video/mp4');
        assert.ok(stored.etag.length > 0);
        assert.ok(Math.abs(stored.lastModified.getTime() - Date.now()) < 60_000);
        const info = await store.stat(k);
        assert.deepEqual({ ...info, lastModified: undefined }, { key: k, size: data.length, etag: stored.etag, contentType: 'video/mp4', lastModified: undefined });
        const body = await store.get(k);
        assert.equal(sha(await readAll(body.stream)), sha(data));
        assert.deepEqual([body.start, body.end, body.info.size], [0, data.length - 1, data.length]);
      }
    });

    it('keeps an explicit content type, derives one from the extension, and refuses a malformed one', async () => {
      const k = key('poster');
      assert.equal((await store.put(k, { bytes: Buffer.from('x') })).contentType, 'application/octet-stream');
      await store.put(k, { bytes: Buffer.from('x') }, { contentType: 'image/webp' });
      assert.equal((await store.stat(k))?.contentType, 'image/webp');
      assert.equal((await store.put(key('p.JPG'), { bytes: Buffer.from('x') })).contentType, 'image/jpeg');
      assert.equal((await store.put(key('l.m3u8'), { bytes: Buffer.from('#') })).contentType, 'application/vnd.apple.mpegurl');
      await assert.rejects(store.put(key('bad'), { bytes: Buffer.from('x') }, { contentType: 'text/html\r\nX-Evil: 1' }), ValidationError);
    });

    it('an overwrite replaces the object; the same bytes give the same etag, other bytes another', async () => {
      const k = key('over.json');
      const a = await store.put(k, { bytes: Buffer.from('{"v":1}') });
      const again = await store.put(k, { bytes: Buffer.from('{"v":1}') });
      assert.equal(again.etag, a.etag);
      const b = await store.put(k, { bytes: Buffer.from('{"v":22}') });
      assert.notEqual(b.etag, a.etag);
      assert.equal((await readAll((await store.get(k)).stream)).toString(), '{"v":22}');
      assert.equal((await store.stat(k))?.size, 8);
    });

    it('readers see the old object until a slow upload completes, then the new one', async () => {
      const k = key('atomic.txt');
      await store.put(k, { bytes: Buffer.from('old') });
      const slow = new PassThrough();
      const uploading = store.put(k, { stream: slow, size: 6 });
      slow.write('new');
      await sleep(100);
      assert.equal((await readAll((await store.get(k)).stream)).toString(), 'old');
      assert.equal((await store.stat(k))?.size, 3);
      slow.end('NEW');
      await uploading;
      assert.equal((await readAll((await store.get(k)).stream)).toString(), 'newNEW');
    });

    it('serves byte ranges: inclusive, open-ended, clamped; a start past the end is range_not_satisfiable', async () => {
      const k = key('range.bin');
      const data = randomBytes(1000);
      await store.put(k, { bytes: data });
      const part = await store.get(k, { start: 10, end: 19 });
      assert.deepEqual(await readAll(part.stream), data.subarray(10, 20));
      assert.deepEqual([part.start, part.end, part.info.size], [10, 19, 1000]);
      assert.deepEqual(await readAll((await store.get(k, { start: 990 })).stream), data.subarray(990));
      const clamped = await store.get(k, { start: 995, end: 5000 });
      assert.deepEqual([clamped.start, clamped.end], [995, 999]);
      assert.deepEqual(await readAll(clamped.stream), data.subarray(995));
      await assert.rejects(store.get(k, { start: 1000 }), isCode('range_not_satisfiable'));
      await assert.rejects(store.get(k, { start: -1 }), TypeError);
      await assert.rejects(store.get(k, { start: 5, end: 4 }), TypeError);
      const empty = key('empty');
      assert.equal((await store.put(empty, { bytes: new Uint8Array(0) })).size, 0);
      const whole = await store.get(empty);
      assert.deepEqual([whole.start, whole.end, (await readAll(whole.stream)).length], [0, -1, 0]);
      await assert.rejects(store.get(empty, { start: 0 }), isCode('range_not_satisfiable'));
    });

    it('a missing object: stat null, get NotFoundError, delete fine; delete removes', async () => {
      const k = key('gone');
      assert.equal(await store.stat(k), null);
      await assert.rejects(store.get(k), NotFoundError);
      await store.delete(k);
      await store.put(k, { bytes: Buffer.from('x') });
      await store.delete(k);
      assert.equal(await store.stat(k), null);
      await assert.rejects(store.get(k), NotFoundError);
      await assert.rejects(store.get(key('a/b/c/deep')), NotFoundError);
    });

    it('refuses unsafe keys the same way on every method, and takes safe ones', async () => {
      for (const bad of BAD_KEYS) {
        const label = JSON.stringify(bad.slice(0, 40));
        await assert.rejects(store.put(bad, { bytes: Buffer.from('x') }), isCode('invalid_object_key'), label);
        await assert.rejects(store.get(bad), isCode('invalid_object_key'), label);
        await assert.rejects(store.stat(bad), isCode('invalid_object_key'), label);
        await assert.rejects(store.delete(bad), isCode('invalid_object_key'), label);
        await assert.rejects(store.presignGet(bad, { expiresInMs: 60_000 }), isCode('invalid_object_key'), label);
      }
      for (const bad of ['/abs', 'a/../b', '..', 'a\\b', '.meta/']) await assert.rejects(store.list(bad), isCode('invalid_object_key'), bad);
      for (const good of GOOD_KEYS) {
        const k = `${key('good')}/${good}`;
        await store.put(k, { bytes: Buffer.from(good) });
        assert.equal((await readAll((await store.get(k)).stream)).toString(), good);
      }
    });

    it('lists by prefix in key order, a page at a time', async () => {
      const base = key('list');
      const keys = ['a.txt', 'b/1.txt', 'b/2.txt', 'b/10.txt', 'c', 'rec-2024-05', 'rec-2024-06', 'rec-2025-01'].map((k) => `${base}/${k}`);
      for (const k of [...keys].reverse()) await store.put(k, { bytes: Buffer.from(k) });
      const sorted = [...keys].sort();
      const all = await store.list(`${base}/`);
      assert.deepEqual(all.items.map((i) => i.key), sorted);
      assert.equal(all.next, undefined);
      assert.equal(all.items[0]!.size, Buffer.byteLength(sorted[0]!));
      assert.ok(all.items.every((i) => i.etag && i.lastModified instanceof Date));
      assert.deepEqual((await store.list(`${base}/b/`)).items.map((i) => i.key), [`${base}/b/1.txt`, `${base}/b/10.txt`, `${base}/b/2.txt`]);
      assert.deepEqual((await store.list(`${base}/rec-2024`)).items.map((i) => i.key), [`${base}/rec-2024-05`, `${base}/rec-2024-06`]);
      assert.deepEqual((await store.list(`${base}/nothing/`)).items, []);
      const seen: string[] = [];
      let after: string | undefined;
      for (let page = 0; page < 10; page++) {
        const res = await store.list(`${base}/`, { limit: 3, after });
        assert.ok(res.items.length <= 3);
        seen.push(...res.items.map((i) => i.key));
        if (!res.next) break;
        after = res.next;
      }
      assert.deepEqual(seen, sorted);
      assert.ok((await store.list('')).items.every((i) => !i.key.split('/').some((s) => s.startsWith('.'))), 'no internal files');
      await assert.rejects(store.list(`${base}/`, { after: '../x' }), isCode('invalid_cursor'));
      await assert.rejects(store.list(`${base}/`, { limit: 0 }), TypeError);
      await assert.rejects(store.list(`${base}/`, { limit: 1001 }), TypeError);
    });

    it('a stream shorter or longer than its size is refused and stores nothing; the old object stays', async () => {
      const k = key('size.bin');
      await store.put(k, { bytes: Buffer.from('keep') });
      await assert.rejects(store.put(k, { stream: Readable.from([Buffer.alloc(10)]), size: 11 }), isCode('size_mismatch'));
      await assert.rejects(store.put(k, { stream: Readable.from([Buffer.alloc(10)]), size: 9 }), isCode('size_mismatch'));
      assert.equal((await readAll((await store.get(k)).stream)).toString(), 'keep');
      const fresh = key('never');
      await assert.rejects(store.put(fresh, { stream: Readable.from([Buffer.alloc(3)]), size: 4 }), isCode('size_mismatch'));
      assert.equal(await store.stat(fresh), null);
      await assert.rejects(store.put(fresh, { stream: Readable.from([]), size: -1 }), TypeError);
      await assert.rejects(store.put(fresh, { file: '/nonexistent/onair/file.mp4' }), (e: unknown) => e instanceof NotFoundError && e.code === 'source_not_found');
      await assert.rejects(store.put(fresh, {} as never), TypeError);
    });

    it('a large object (10 MiB: three parts on S3) arrives byte-identical; a failing source stores nothing and put() rethrows its error', async () => {
      const data = randomBytes(10 * MiB + 4321);
      const k = key('big.mp4');
      const stored = await store.put(k, { stream: Readable.from(chunks(data, 256 * 1024)), size: data.length });
      assert.equal(stored.size, data.length);
      assert.equal(stored.md5, md5(data));
      assert.equal(sha(await readAll((await store.get(k)).stream)), sha(data));
      const across = await store.get(k, { start: 5 * MiB - 10, end: 5 * MiB + 9 });
      assert.deepEqual(await readAll(across.stream), data.subarray(5 * MiB - 10, 5 * MiB + 10), 'a range across a part boundary');

      const failing = new PassThrough();
      const upload = store.put(key('broken.mp4'), { stream: failing, size: data.length });
      failing.write(data.subarray(0, 6 * MiB));
      await sleep(50);
      failing.destroy(new Error('disk went away'));
      await assert.rejects(upload, /^Error: disk went away$/, 'the source\'s own error');
      assert.equal(await store.stat(key('broken.mp4')), null);

      // Failing while the S3 client is still creating the multipart upload (before it reads the
      // body): this once left the put waiting forever. A hang fails here after 20 s.
      const early = new PassThrough();
      const started = store.put(key('early.mp4'), { stream: early, size: data.length });
      setImmediate(() => early.destroy(new Error('gone at once')));
      const hung = new Promise<string>((r) => setTimeout(r, 20_000, 'hung').unref());
      const outcome = await Promise.race([started.then(() => 'stored', (e: Error) => e.message), hung]);
      assert.match(outcome, /gone at once/);
      assert.equal(await store.stat(key('early.mp4')), null);
    });

    it('uploads a file while another writer still appends to it, the head rewritten at the end: the object is the finished file', async () => {
      // As ffmpeg with a reserved index writes: the file appears after put() is called, grows in
      // order, and its first bytes (below settledFrom) are filled in only at the end.
      const dir = mkdtempSync(join(tmpdir(), 'onair-grow-'));
      const file = join(dir, 'replay.mp4');
      const head = randomBytes(64 * 1024);
      const body = randomBytes(12 * MiB + 777);
      const k = key('grown.mp4');
      let finish!: () => void;
      const written = new Promise<void>((r) => (finish = r));
      const upload = store.put(k, { growingFile: file, written, settledFrom: head.length });
      await sleep(50);
      const fd = openSync(file, 'w');
      writeSync(fd, Buffer.alloc(head.length), 0, head.length, 0);
      for (let at = 0; at < body.length; at += MiB) {
        writeSync(fd, body, at, Math.min(MiB, body.length - at), head.length + at);
        await sleep(10);
      }
      writeSync(fd, head, 0, head.length, 0);
      closeSync(fd);
      finish();
      const whole = Buffer.concat([head, body]);
      const stored = await upload;
      assert.equal(stored.size, whole.length);
      assert.equal(stored.md5, md5(whole));
      assert.equal(sha(await readAll((await store.get(k)).stream)), sha(whole));

      // A file that ends up small (one part on S3) the same way.
      const small = join(dir, 'small.mp4');
      let done!: () => void;
      const smallWritten = new Promise<void>((r) => (done = r));
      const smallUpload = store.put(key('small.mp4'), { growingFile: small, written: smallWritten, settledFrom: 10 });
      writeFileSync(small, Buffer.from('tiny replay'));
      done();
      assert.equal((await smallUpload).md5, md5(Buffer.from('tiny replay')));
      rmSync(dir, { recursive: true, force: true });
    });

    it('a growing file whose writer fails stores nothing, and put() rejects with the writer\'s error', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'onair-grow-'));
      const file = join(dir, 'replay.mp4');
      const k = key('failed.mp4');
      let fail!: (err: Error) => void;
      const written = new Promise<void>((_, reject) => (fail = reject));
      const upload = store.put(k, { growingFile: file, written, settledFrom: 0 });
      writeFileSync(file, randomBytes(11 * MiB));
      await sleep(200);
      fail(new Error('ffmpeg exited with 1'));
      await assert.rejects(upload, /^Error: ffmpeg exited with 1$/);
      assert.equal(await store.stat(k), null);
      // A writer that never created the file: source_not_found once it says it is done.
      await assert.rejects(store.put(k, { growingFile: join(dir, 'never.mp4'), written: Promise.resolve(), settledFrom: 0 }), (e: unknown) => e instanceof NotFoundError && e.code === 'source_not_found');
      await assert.rejects(store.put(k, { growingFile: file, written: Promise.resolve(), settledFrom: -1 }), TypeError);
      assert.equal(await store.stat(k), null);
      rmSync(dir, { recursive: true, force: true });
    });

    it('hands out a URL the client fetches (S3), or null and onair serves it with Range (local)', async () => {
      const k = key('play.mp4');
      const data = randomBytes(50_000);
      await store.put(k, { bytes: data });
      const presigned = await store.presignGet(k, { expiresInMs: 60_000 });
      let url: string;
      let server: http.Server | undefined;
      if (presigned) {
        url = presigned.url;
        assert.ok(presigned.expiresAt.getTime() > Date.now() + 50_000 && presigned.expiresAt.getTime() <= Date.now() + 60_000);
      } else {
        server = http.createServer((req, res) => {
          sendObject(store, k, req, res).catch((err) => res.writeHead(500).end(String(err)));
        });
        await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
        url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/file`;
      }
      try {
        const full = await fetch(url);
        assert.equal(full.status, 200);
        assert.equal(sha(Buffer.from(await full.arrayBuffer())), sha(data));
        const part = await fetch(url, { headers: { range: 'bytes=100-199' } });
        assert.equal(part.status, 206);
        assert.equal(part.headers.get('content-range'), 'bytes 100-199/50000');
        assert.deepEqual(Buffer.from(await part.arrayBuffer()), data.subarray(100, 200));
      } finally {
        server?.close();
      }
      await assert.rejects(store.presignGet(k, { expiresInMs: 500 }), TypeError);
      await assert.rejects(store.presignGet(k, { expiresInMs: 8 * 24 * 3600 * 1000 }), TypeError);
      await assert.rejects(store.presignGet(k, { expiresInMs: 60_000, downloadName: 'a"b' }), ValidationError);
    });

    it('close() is idempotent and later calls throw InvalidStateError', async () => {
      const own = await make();
      await own.store.close();
      await own.store.close();
      await assert.rejects(own.store.put('x', { bytes: Buffer.from('x') }), InvalidStateError);
      await assert.rejects(own.store.get('x'), InvalidStateError);
      await assert.rejects(own.store.stat('x'), InvalidStateError);
      await assert.rejects(own.store.list(''), InvalidStateError);
      await assert.rejects(own.store.presignGet('x', { expiresInMs: 60_000 }), InvalidStateError);
      await own.close();
    });
  });
}

function* chunks(data: Buffer, size: number) {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}
