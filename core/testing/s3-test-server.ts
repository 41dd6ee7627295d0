import http from 'node:http';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import S3rver from 's3rver';

/**
 * A real S3-compatible server for tests: s3rver 3.7.1 (a Koa app storing objects in a temporary
 * folder) on 127.0.0.1, port 0, behind a small proxy of ours.
 *
 * Why the proxy: before a multipart upload, the minio client asks for unfinished uploads of the key
 * (ListMultipartUploads, `GET /bucket?uploads`) so it can resume one; s3rver answers that with
 * 501 NotImplemented, so minio's multipart path could not run against it at all. The proxy answers
 * exactly that request with an empty ListMultipartUploadsResult ("no upload to resume", which is
 * the truth: nothing else uses the server) and forwards every other request byte for byte, so
 * CreateMultipartUpload, UploadPart and CompleteMultipartUpload run for real on s3rver, which
 * stores the parts and joins them. `requests` counts them so a test can show the multipart path ran.
 *
 * One more difference the proxy evens out: S3 and MinIO give a multipart object the ETag
 * MD5(MD5(part 1) ... MD5(part N)) + '-N', s3rver the MD5 of the whole. The proxy hashes each part
 * on its way to s3rver and rewrites CompleteMultipartUpload's ETag the S3 way, so the adapter's
 * check of multipart ETags runs against the parts the server really received (`parts` lists them).
 *
 * What s3rver does not check: V4 signatures (it accepts any signature for a known access key) and
 * Content-MD5 of parts. It does check presigned URLs' expiry, and it serves Range requests.
 */
export interface TestS3Server {
  /** ONAIR_S3_URL for the proxy, with `bucket` and the given query (e.g. 'partSize=5MiB'). */
  url(bucket: string, query?: string): string;
  /** The same URL straight to s3rver (no proxy): for showing what the proxy is needed for. */
  directUrl(bucket: string, query?: string): string;
  readonly requests: { listMultipartUploads: number; createMultipartUpload: number; uploadPart: number; completeMultipartUpload: number; abortMultipartUpload: number };
  /** The sizes of the parts of each completed multipart upload, in part order (key -> sizes). */
  readonly parts: Map<string, number[]>;
  close(): Promise<void>;
}

const EMPTY_UPLOADS = (bucket: string) => `<?xml version="1.0" encoding="UTF-8"?>
<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>${bucket}</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker><MaxUploads>1000</MaxUploads></ListMultipartUploadsResult>`;

export async function startTestS3Server(): Promise<TestS3Server> {
  const directory = mkdtempSync(join(tmpdir(), 'onair-s3rver-'));
  const s3rver = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory });
  const { port: s3Port } = (await s3rver.run()) as AddressInfo;
  const requests = { listMultipartUploads: 0, createMultipartUpload: 0, uploadPart: 0, completeMultipartUpload: 0, abortMultipartUpload: 0 };
  const uploads = new Map<string, Map<number, { md5: Buffer; size: number }>>();
  const parts = new Map<string, number[]>();

  const proxy = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://proxy');
    const q = u.searchParams;
    const bucket = u.pathname.split('/')[1] ?? '';
    if (req.method === 'GET' && q.has('uploads')) {
      requests.listMultipartUploads++;
      req.resume();
      res.writeHead(200, { 'content-type': 'application/xml' }).end(EMPTY_UPLOADS(bucket));
      return;
    }
    const uploadId = q.get('uploadId');
    if (req.method === 'POST' && q.has('uploads')) requests.createMultipartUpload++;
    if (req.method === 'PUT' && uploadId && q.has('partNumber')) {
      requests.uploadPart++;
      const hash = createHash('md5');
      let size = 0;
      req.on('data', (chunk: Buffer) => { hash.update(chunk); size += chunk.length; });
      req.on('end', () => {
        if (!uploads.has(uploadId)) uploads.set(uploadId, new Map());
        uploads.get(uploadId)!.set(Number(q.get('partNumber')), { md5: hash.digest(), size });
      });
    }
    const completing = req.method === 'POST' && uploadId ? uploadId : undefined;
    if (completing) requests.completeMultipartUpload++;
    if (req.method === 'DELETE' && uploadId) requests.abortMultipartUpload++;
    const upstream = http.request({ host: '127.0.0.1', port: s3Port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      // Connection and Keep-Alive are hop-by-hop: s3rver's `Keep-Alive: timeout=5` passed on would
      // make the client keep idle sockets 4 s, while this proxy closes them after 1 s (reused
      // sockets then fail with ECONNRESET/EPIPE).
      delete up.headers.connection;
      delete up.headers['keep-alive'];
      if (!completing || up.statusCode !== 200) {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
        return;
      }
      const body: Buffer[] = [];
      up.on('data', (c: Buffer) => body.push(c));
      up.on('end', () => {
        const received = [...(uploads.get(completing) ?? new Map<number, { md5: Buffer; size: number }>()).entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1]);
        uploads.delete(completing);
        parts.set(decodeURIComponent(u.pathname.split('/').slice(2).join('/')), received.map((p) => p.size));
        const etag = `${createHash('md5').update(Buffer.concat(received.map((p) => p.md5))).digest('hex')}-${received.length}`;
        const xml = Buffer.concat(body).toString('utf8').replace(/<ETag>[^<]*<\/ETag>/, `<ETag>&quot;${etag}&quot;</ETag>`);
        const headers = { ...up.headers, 'content-length': String(Buffer.byteLength(xml)) };
        res.writeHead(200, headers).end(xml);
      });
    });
    upstream.on('error', (err) => res.destroy(err));
    // A client gone mid-request: drop the forwarded one too, or s3rver waits for its body forever.
    req.on('close', () => { if (!req.complete) upstream.destroy(); });
    req.pipe(upstream);
  });
  proxy.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const proxyPort = (proxy.address() as AddressInfo).port;
  // s3rver's default account.
  const make = (port: number) => (bucket: string, query = '') => `http://S3RVER:S3RVER@127.0.0.1:${port}/${bucket}${query ? `?${query}` : ''}`;
  return {
    url: make(proxyPort),
    directUrl: make(s3Port),
    requests,
    parts,
    async close() {
      proxy.closeAllConnections();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      await s3rver.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
