import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { MinioObjectStore } from './minio-object-store.js';
import { parseS3Url } from '../config/s3-url.js';
import { startTestS3Server, type TestS3Server } from '../testing/s3-test-server.js';

/**
 * Several parts in flight against a store whose connections misbehave. A stand-in server sits
 * between the adapter and s3rver (which stores everything for real) and, for one part number,
 * resets the connection, swallows the request without ever answering, or refuses the part. Before
 * parts were retried and sockets guarded against stalls, the first made put() fail with an
 * AbortError that hid the reset, the second left put() waiting forever, and the third let put()
 * abort the upload while other parts were still being written.
 */
const MiB = 1024 * 1024;
type Fault = 'reset' | 'stall' | 'refuse';

interface StandIn {
  url(query: string): string;
  /** UploadPart requests seen per part number. */
  seen: Map<number, number>;
  inflight: number;
  /** AbortMultipartUpload requests seen. */
  aborts: number;
  close(): Promise<void>;
}

async function startStandIn(s3: TestS3Server, faultyPart: number, fault: Fault, times: number): Promise<StandIn> {
  const direct = new URL(s3.directUrl('x'));
  const seen = new Map<number, number>();
  const held: http.ServerResponse[] = [];
  const state = { inflight: 0, aborts: 0 };
  const server = http.createServer((req, res) => {
    const q = new URL(req.url ?? '/', 'http://h').searchParams;
    const part = req.method === 'PUT' && q.has('uploadId') ? Number(q.get('partNumber')) : 0;
    if (part) seen.set(part, (seen.get(part) ?? 0) + 1);
    if (req.method === 'DELETE' && q.has('uploadId')) state.aborts++;
    if (part === faultyPart && seen.get(part)! <= times) {
      if (fault === 'reset') {
        req.once('data', () => req.socket.destroy());
        return;
      }
      if (fault === 'stall') {
        req.resume(); // read the whole part, then never answer
        held.push(res);
        return;
      }
      req.resume();
      req.once('end', () => res.writeHead(403, { 'content-type': 'application/xml' })
        .end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>no</Message></Error>'));
      return;
    }
    if (part) state.inflight++;
    const up = http.request({ host: direct.hostname, port: Number(direct.port), method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
      r.once('end', () => { if (part) state.inflight--; });
    });
    up.on('error', (err) => res.destroy(err));
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (query) => `http://S3RVER:S3RVER@127.0.0.1:${port}/retry-bucket?${query}`,
    seen,
    get inflight() { return state.inflight; },
    get aborts() { return state.aborts; },
    async close() {
      for (const r of held) r.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('MinioObjectStore: parts in flight over connections that fail', () => {
  let s3: TestS3Server;
  before(async () => { s3 = await startTestS3Server(); });
  after(() => s3.close());

  // 5 parts of 5 MiB (the last shorter), 4 in flight.
  const data = randomBytes(23 * MiB + 3);
  const md5 = createHash('md5').update(data).digest('hex');

  it('a part whose connection is reset is sent again, and the object is whole', { timeout: 60_000 }, async () => {
    const standIn = await startStandIn(s3, 3, 'reset', 1);
    const store = new MinioObjectStore({ target: parseS3Url(standIn.url('partSize=5MiB&partConcurrency=4')) });
    try {
      const stored = await store.put('reset.bin', { stream: Readable.from([data]), size: data.length });
      assert.equal(stored.md5, md5);
      assert.equal(standIn.seen.get(3), 2, 'part 3 was sent twice');
      assert.ok(createHash('md5').update(await readAll((await store.get('reset.bin')).stream)).digest('hex') === md5, 'read back whole');
    } finally {
      await store.close();
      await standIn.close();
    }
  });

  it('a part that never gets an answer does not hold the upload: its stalled connection is closed and the part sent again', { timeout: 60_000 }, async () => {
    const standIn = await startStandIn(s3, 2, 'stall', 1);
    const store = new MinioObjectStore({ target: parseS3Url(standIn.url('partSize=5MiB&partConcurrency=4')), stallTimeoutMs: 1_500 });
    try {
      const stored = await store.put('stall.bin', { bytes: data });
      assert.equal(stored.md5, md5);
      assert.equal(standIn.seen.get(2), 2, 'part 2 was sent twice');
      assert.equal((await store.stat('stall.bin'))?.size, data.length);
    } finally {
      await store.close();
      await standIn.close();
    }
  });

  it('a part refused for good fails the put with the server\'s error, after every other part has settled', { timeout: 60_000 }, async () => {
    const standIn = await startStandIn(s3, 3, 'refuse', Infinity);
    const store = new MinioObjectStore({ target: parseS3Url(standIn.url('partSize=5MiB&partConcurrency=4')) });
    try {
      const err = await store.put('refused.bin', { bytes: data }).then(() => null, (e: unknown) => e as Error);
      assert.ok(err, 'put() rejected');
      assert.match(String(err.message), /AccessDenied/, String(err));
      assert.equal(standIn.seen.get(3), 1, 'a 403 is not retried');
      assert.equal(standIn.inflight, 0, 'no part of the failed upload is still in flight');
      assert.equal(await store.stat('refused.bin'), null);
    } finally {
      await store.close();
      await standIn.close();
    }
  });

  it('a growing file: a part refused while the writer still runs fails the put at once (not when the writer ends), the upload aborted, nothing stored', { timeout: 60_000 }, async () => {
    const standIn = await startStandIn(s3, 2, 'refuse', Infinity);
    const store = new MinioObjectStore({ target: parseS3Url(standIn.url('partSize=5MiB&partConcurrency=4')) });
    const dir = mkdtempSync(join(tmpdir(), 'onair-grow-refused-'));
    let finish!: () => void;
    try {
      const file = join(dir, 'replay.mp4');
      writeFileSync(file, data);
      const written = new Promise<void>((r) => (finish = r));
      // Parts 2-4 lie wholly past settledFrom and are already in the file: they go up at once.
      const err = await store.put('grown-refused.mp4', { growingFile: file, written, settledFrom: MiB }).then(() => null, (e: unknown) => e as Error);
      assert.ok(err, 'put() rejected while the writer had not finished');
      assert.match(String(err.message), /AccessDenied/, String(err));
      assert.equal(standIn.inflight, 0, 'no part of the failed upload is still in flight');
      assert.equal(standIn.aborts, 1, 'the multipart upload was aborted');
      assert.equal(await store.stat('grown-refused.mp4'), null);
    } finally {
      finish?.();
      rmSync(dir, { recursive: true, force: true });
      await store.close();
      await standIn.close();
    }
  });
});
