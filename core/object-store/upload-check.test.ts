import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { PassThrough, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ValidationError } from '../errors.js';
import { UploadCheck } from './upload-check.js';

const md5 = (b: Buffer) => createHash('md5').update(b).digest();
/** S3's multipart ETag of `parts`, computed the way AWS documents it. */
const s3Etag = (parts: Buffer[]) => `${createHash('md5').update(Buffer.concat(parts.map(md5))).digest('hex')}-${parts.length}`;

async function run(data: Buffer, size: number, partSize: number, chunk = data.length) {
  const check = new UploadCheck(size, partSize);
  const out: Buffer[] = [];
  const sink = new Writable({ write(c: Buffer, _e, cb) { out.push(c); cb(); } });
  const pieces = [];
  for (let i = 0; i < data.length; i += chunk) pieces.push(data.subarray(i, i + chunk));
  await pipeline(Readable.from(pieces), check, sink);
  return { check, out };
}

describe('UploadCheck', () => {
  it('gives the MD5 and the S3 multipart ETags of both part layouts minio may send', async () => {
    const part = 100_000;
    const data = randomBytes(2 * part + 777);
    const { check } = await run(data, data.length, part);
    assert.equal(check.md5(), md5(data).toString('hex'));
    const exact = s3Etag([data.subarray(0, part), data.subarray(part, 2 * part), data.subarray(2 * part)]);
    const merged = s3Etag([data.subarray(0, part), data.subarray(part)]);
    assert.deepEqual(check.multipartEtags(), [exact, merged]);
    const whole = randomBytes(3 * part);
    assert.deepEqual((await run(whole, whole.length, part)).check.multipartEtags(),
      [s3Etag([whole.subarray(0, part), whole.subarray(part, 2 * part), whole.subarray(2 * part)])], 'no tail, one layout');
  });

  it('passes bytes on in slices of at most 64 KiB that never cross a part boundary', async () => {
    const part = 200_000;
    const data = randomBytes(3 * part + 5);
    const { out } = await run(data, data.length, part, 150_000);
    assert.deepEqual(Buffer.concat(out), data);
    let offset = 0;
    for (const slice of out) {
      assert.ok(slice.length <= 64 * 1024);
      assert.equal(Math.floor(offset / part), Math.floor((offset + slice.length - 1) / part), `slice at ${offset} crosses a boundary`);
      offset += slice.length;
    }
  });

  it('refuses a stream longer (at once) or shorter (at its end) than declared', async () => {
    await assert.rejects(run(Buffer.alloc(10), 9, 0), (e: unknown) => e instanceof ValidationError && e.code === 'size_mismatch');
    await assert.rejects(run(Buffer.alloc(10), 11, 0), (e: unknown) => e instanceof ValidationError && e.code === 'size_mismatch');
  });

  it('a stream piped after the failure fails at once instead of waiting', async () => {
    const check = new UploadCheck(100, 0);
    check.on('error', () => undefined);
    check.destroy(new Error('source failed'));
    const late = new PassThrough();
    late.on('error', () => undefined);
    check.pipe(late);
    await new Promise((r) => setImmediate(r));
    assert.equal((late.errored as Error | null)?.message, 'source failed');
  });

  it('an error takes down the streams it is piped into (pipe() alone would leave them waiting)', async () => {
    const check = new UploadCheck(100, 0);
    const dest = new PassThrough();
    dest.on('error', () => undefined);
    check.on('error', () => undefined);
    check.pipe(dest);
    check.destroy(new Error('source failed'));
    await new Promise((r) => setImmediate(r));
    assert.equal(dest.destroyed, true);
    assert.equal((dest.errored as Error | null)?.message, 'source failed');
  });
});
