import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describeObjectStoreContract } from './object-store.contract.js';
import { MinioObjectStore } from './minio-object-store.js';
import { parseS3Url } from '../config/s3-url.js';
import { InvalidStateError, UnavailableError } from '../errors.js';
import { waitFor } from '../testing/wait-for.js';
import { testObjectStores } from '../testing/test-object-stores.js';
import { startTestS3Server } from '../testing/s3-test-server.js';

const MiB = 1024 * 1024;
const minio = testObjectStores().find((f) => f.name === 'minio')!;
after(() => minio.close());

// 5 MiB parts (S3's minimum): the contract's 10 MiB object goes up in three parts.
describeObjectStoreContract('MinioObjectStore', () => minio.make({ partSize: 5 * MiB }));

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('MinioObjectStore specifics (s3rver)', () => {
  it('a file past the part size goes up as a real multipart upload, in exact parts sent concurrently, and reassembles byte-identical', async () => {
    const { store, s3, close } = await minio.make({ partSize: 5 * MiB });
    if (!s3) return; // ONAIR_TEST_S3_URL: a real server, which has no request counters
    const before = { ...s3.requests };
    const data = randomBytes(12 * MiB + 17);
    // One big chunk: the parts are cut from it at exactly the part size.
    const stored = await store.put('replays/big.mp4', { stream: Readable.from([data]), size: data.length });
    assert.equal(s3.requests.createMultipartUpload - before.createMultipartUpload, 1);
    assert.equal(s3.requests.completeMultipartUpload - before.completeMultipartUpload, 1);
    // The adapter never lists unfinished uploads (it resumes none), so s3rver's missing call is never needed.
    assert.equal(s3.requests.listMultipartUploads - before.listMultipartUploads, 0);
    // put() verified the S3-style ETag the proxy computed from these very parts.
    assert.deepEqual(s3.parts.get('replays/big.mp4'), [5 * MiB, 5 * MiB, 2 * MiB + 17]);
    assert.equal(s3.requests.uploadPart - before.uploadPart, 3);
    assert.equal(stored.md5, createHash('md5').update(data).digest('hex'));
    const back = await readAll((await store.get('replays/big.mp4')).stream);
    assert.equal(createHash('sha256').update(back).digest('hex'), createHash('sha256').update(data).digest('hex'));
    // Up to one part it is a single PUT.
    const small = s3.requests.uploadPart;
    await store.put('posters/p.jpg', { bytes: randomBytes(5 * MiB) });
    assert.equal(s3.requests.uploadPart, small);
    await close();
  });

  it('s3rver alone runs the multipart path too (no ListMultipartUploads is asked), its whole-MD5 ETag verified', async () => {
    const server = await startTestS3Server();
    try {
      const direct = new MinioObjectStore({ target: parseS3Url(server.directUrl('direct-bucket', 'partSize=5MiB&partConcurrency=2')) });
      const data = randomBytes(11 * MiB + 5);
      const stored = await direct.put('big.bin', { bytes: data });
      assert.equal(stored.md5, createHash('md5').update(data).digest('hex'));
      assert.equal((await direct.stat('big.bin'))?.size, data.length);
      await direct.close();
    } finally {
      await server.close();
    }
  });

  it('a source failing in the middle of a multipart upload fails it with its own error and stores nothing', async () => {
    const { store, s3, close } = await minio.make({ partSize: 5 * MiB });
    if (!s3) return;
    const data = randomBytes(11 * MiB);
    async function* failing() {
      yield data.subarray(0, 6 * MiB);
      throw new Error('source broke');
    }
    const err = await store.put('replays/broken.mp4', { stream: Readable.from(failing()), size: data.length }).then(() => null, (e: unknown) => e);
    assert.equal((err as Error | null)?.message, 'source broke');
    assert.equal(await store.stat('replays/broken.mp4'), null);
    await close();
  });

  it('a growing file: the parts past settledFrom go up while it is written, the head last; a part changed after it was sent fails the upload', async () => {
    const { store, s3, close } = await minio.make({ partSize: 5 * MiB });
    if (!s3) return;
    const dir = mkdtempSync(join(tmpdir(), 'onair-grow-'));
    try {
      const file = join(dir, 'replay.mp4');
      const data = randomBytes(17 * MiB + 3);
      writeFileSync(file, Buffer.concat([Buffer.alloc(MiB), data.subarray(MiB)])); // the head not written yet
      let finish!: () => void;
      const before = s3.requests.uploadPart;
      const upload = store.put('replays/grown.mp4', { growingFile: file, written: new Promise<void>((r) => (finish = r)), settledFrom: MiB });
      // Parts 2 and 3 lie wholly past the first MiB and the file has grown past them: they go up now.
      await waitFor('the parts past settledFrom uploaded while the file is still being written', () => s3.requests.uploadPart - before >= 2, 30_000);
      assert.equal(s3.requests.uploadPart - before, 2, 'part 1 (the head) and part 4 (the tail, which may still grow) wait');
      const fd = openSync(file, 'r+');
      writeSync(fd, data, 0, MiB, 0);
      closeSync(fd);
      finish();
      const stored = await upload;
      assert.equal(stored.md5, createHash('md5').update(data).digest('hex'));
      assert.equal(s3.requests.uploadPart - before, 4);
      assert.deepEqual(s3.parts.get('replays/grown.mp4'), [5 * MiB, 5 * MiB, 5 * MiB, 2 * MiB + 3]);
      assert.equal(createHash('sha256').update(await readAll((await store.get('replays/grown.mp4')).stream)).digest('hex'), createHash('sha256').update(data).digest('hex'));

      // The writer changes a byte of part 2 after it went up: the object would not be the file.
      const changed = join(dir, 'changed.mp4');
      writeFileSync(changed, data);
      let done!: () => void;
      const sent = s3.requests.uploadPart;
      const racing = store.put('replays/changed.mp4', { growingFile: changed, written: new Promise<void>((r) => (done = r)), settledFrom: MiB });
      await waitFor('the early parts sent', () => s3.requests.uploadPart - sent >= 2, 30_000);
      const fd2 = openSync(changed, 'r+');
      writeSync(fd2, Buffer.from([data[6 * MiB]! ^ 0xff]), 0, 1, 6 * MiB);
      closeSync(fd2);
      done();
      await assert.rejects(racing, (e: unknown) => e instanceof InvalidStateError && /part 2 .* changed after it was sent/.test(e.message));
      assert.equal(await store.stat('replays/changed.mp4'), null);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await close();
    }
  });

  it('presigned URLs expire, carry a download name, and are signed for publicUrl when set', async () => {
    const { store, s3, close } = await minio.make();
    await store.put('clips/c.mp4', { bytes: Buffer.from('clip bytes') });
    const named = await store.presignGet('clips/c.mp4', { expiresInMs: 60_000, downloadName: 'Show – best bits.mp4' });
    const res = await fetch(named!.url);
    assert.equal(await res.text(), 'clip bytes');
    assert.match(res.headers.get('content-disposition') ?? '', /^attachment; filename="Show _ best bits.mp4"; filename\*=UTF-8''Show%20%E2%80%93%20best%20bits\.mp4$/);
    if (s3) {
      const short = await store.presignGet('clips/c.mp4', { expiresInMs: 1_000 });
      await new Promise((r) => setTimeout(r, 2_100));
      assert.equal((await fetch(short!.url)).status, 403, 'expired');
      const target = parseS3Url(s3.url('t-public', 'publicUrl=https://media.example.com'));
      const pub = new MinioObjectStore({ target });
      const url = new URL((await pub.presignGet('clips/c.mp4', { expiresInMs: 60_000 }))!.url);
      assert.equal(url.origin, 'https://media.example.com');
      assert.equal(url.pathname, '/t-public/clips/c.mp4');
      await pub.close();
    }
    await close();
  });

  it('an unreachable server is UnavailableError, and its message carries no credentials', async () => {
    const store = new MinioObjectStore({ target: parseS3Url('http://AKIA:very-secret-key@127.0.0.1:1/bucket') });
    const err = await store.stat('k').then(() => null, (e: unknown) => e);
    assert.ok(err instanceof UnavailableError, String(err));
    assert.ok(!String(err.message).includes('very-secret-key'));
    await store.close();
  });

  it('keys live under the URL\'s prefix', async () => {
    const { s3 } = await minio.make();
    if (!s3) return;
    const bucket = `t-prefix-${randomBytes(3).toString('hex')}`;
    const scoped = new MinioObjectStore({ target: parseS3Url(s3.url(`${bucket}/tenant-a`)) });
    const whole = new MinioObjectStore({ target: parseS3Url(s3.url(bucket)) });
    await scoped.put('x.txt', { bytes: Buffer.from('x') });
    assert.deepEqual((await whole.list('')).items.map((i) => i.key), ['tenant-a/x.txt']);
    assert.deepEqual((await scoped.list('')).items.map((i) => i.key), ['x.txt']);
    await scoped.close();
    await whole.close();
  });
});
