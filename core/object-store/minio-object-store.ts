import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { ClientRequestArgs } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { Client, S3Error } from 'minio';
import { ConflictError, InvalidStateError, NotFoundError, UnavailableError, ValidationError } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import { silentLogger } from '../logging/logger.js';
import type { S3Target } from '../config/s3-url.js';
import { assertSafeKey, assertSafePrefix, resolveContentType } from './object-key.js';
import { bodySource, checkListOptions, checkPresign, checkRange, contentDisposition, growingFileSource, whenFailed, type GrowingFile } from './object-args.js';
import type { UploadCheck } from './upload-check.js';
import type {
  ByteRange, ListOptions, ObjectBody, ObjectInfo, ObjectPage, ObjectSource, ObjectStore, ObjectSummary, PresignedUrl,
  PresignOptions, PutOptions, StoredObject,
} from './object-store.port.js';

export interface MinioObjectStoreOptions {
  target: S3Target;
  log?: Logger;
  /**
   * A connection that moves no byte either way for this long is closed, which fails its request
   * (a part is then retried). Default 120 s: S3 and MinIO keep a slow CompleteMultipartUpload
   * alive with whitespace; s3rver answers a gigabyte join in seconds. Tests shorten it.
   */
  stallTimeoutMs?: number;
}

/** Attempts per part: a part that fails with a connection error, a stall or a 5xx is sent again (the same part number replaces itself). */
const PART_ATTEMPTS = 4;
const DEFAULT_STALL_TIMEOUT_MS = 120_000;
type SentPart = { part: number; etag: string; md5: Buffer };

const MD5 = /^[0-9a-f]{32}$/;
const MULTIPART_ETAG = /^[0-9a-f]{32}-\d+$/;

/**
 * The cluster object store: S3 or MinIO through the `minio` client (ONAIR_S3_URL).
 *
 *   bucket     created on first use when missing (several nodes racing to create it is fine)
 *   prefix     the URL's path after the bucket, prepended to every key
 *   uploads    up to one part (the URL's partSize) a single PUT (minio's putObject); past it a
 *              multipart upload driven here: CreateMultipartUpload, then the source cut into parts
 *              of exactly partSize, up to partConcurrency of them in flight at once (each with its
 *              Content-MD5), then CompleteMultipartUpload. Memory per upload is about partSize x
 *              (partConcurrency + 1). minio's own putObject sends one part at a time and first
 *              lists the key's unfinished uploads (ListMultipartUploads) to resume one: onair never
 *              resumes another process's upload (a job that died re-uploads from the start), so it
 *              never asks, which also lets s3rver, which lacks that call, run the real multipart
 *              path. Every upload is verified: the bytes counted against the declared size, and
 *              the server's ETag checked against MD5s computed while sending (a single PUT's ETag
 *              is the MD5; a multipart one is the MD5 of the parts' MD5s, '-N'). A failing source
 *              rejects the upload (UploadCheck) and an unfinished multipart upload is aborted
 *   URLs       presignGet() signs offline (the region is configured), for publicUrl's host when set
 */
export class MinioObjectStore implements ObjectStore {
  readonly kind = 's3' as const;
  private readonly client: Client;
  private readonly signer: Client;
  private readonly agent: http.Agent;
  private readonly stallTimeoutMs: number;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly partSize: number;
  private readonly partConcurrency: number;
  private readonly region: string;
  private readonly log: Logger;
  private bucketReady: Promise<void> | undefined;
  private closed = false;

  constructor(options: MinioObjectStoreOptions) {
    const t = options.target;
    this.bucket = t.bucket;
    this.prefix = t.prefix;
    this.partSize = t.partSize;
    this.partConcurrency = t.partConcurrency;
    this.region = t.region;
    this.log = options.log ?? silentLogger();
    this.stallTimeoutMs = options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
    this.agent = stallGuardedAgent(t.useSSL, this.stallTimeoutMs);
    const common = { accessKey: t.accessKey, secretKey: t.secretKey, region: t.region, pathStyle: true };
    this.client = new Client({ ...common, endPoint: t.endPoint, port: t.port, useSSL: t.useSSL, partSize: t.partSize, transportAgent: this.agent });
    const pub = t.publicEndpoint;
    // Signing needs no connection: with the region set, the client never asks the server for it.
    this.signer = pub ? new Client({ ...common, endPoint: pub.endPoint, port: pub.port, useSSL: pub.useSSL }) : this.client;
  }

  async put(key: string, source: ObjectSource, options: PutOptions = {}): Promise<StoredObject> {
    this.assertOpen();
    assertSafeKey(key);
    const contentType = resolveContentType(key, options.contentType);
    const name = this.prefix + key;
    const growing = growingFileSource(source);
    if (growing) return this.putGrowing(key, name, growing, contentType);
    const check = await bodySource(source, 0);
    let etag: string;
    let partDigests: Buffer[] = [];
    let uploadId: string | undefined;
    try {
      await this.ensureBucket();
      if (check.expectedSize > this.partSize) {
        // Race the body's failure while nothing reads it yet. sendParts() reads the body itself, so a
        // failing source ends it, and it settles only when no part of its own is still in flight.
        uploadId = await Promise.race([this.client.initiateNewMultipartUpload(this.bucket, name, { 'Content-Type': contentType }), whenFailed(check)]);
        const parts = await this.sendParts(name, uploadId, check);
        partDigests = parts.map((p) => p.md5);
        ({ etag } = await this.client.completeMultipartUpload(this.bucket, name, uploadId, parts.map((p) => ({ part: p.part, etag: p.etag }))));
      } else {
        // Race the body's failure too: a failing source ends the put whatever state the client is in.
        ({ etag } = await Promise.race([this.client.putObject(this.bucket, name, check, check.expectedSize, { 'Content-Type': contentType }), whenFailed(check)]));
      }
    } catch (err) {
      // The body's own failure (a short or long source) explains more than what it caused in the
      // client, except an AbortError: that is the body being closed because the upload failed.
      const bodyError = check.errored as Error | null;
      const cause = bodyError && bodyError.name !== 'AbortError' ? bodyError : err;
      check.destroy();
      // A multipart upload that failed half way leaves parts on the server: abort it (best effort;
      // s3rver has no AbortMultipartUpload). No part of this upload is in flight any more.
      if (uploadId) {
        await this.client.abortMultipartUpload(this.bucket, name, uploadId).catch((e: unknown) => this.log.debug({ err: e }, 'could not abort an incomplete upload'));
      }
      throw check.sourceError ?? translate(cause, key);
    }
    return this.verify(key, name, etag, partDigests, check.md5(), check.bytes);
  }

  /**
   * The stored object against what was sent: its size, and the server's ETag. MD5: a single PUT
   * (or a server, like s3rver, that gives the whole content's MD5). MD5-N: a multipart upload, the
   * MD5 of the MD5s of the parts sent. Anything else (an encrypted bucket) cannot be checked here;
   * the size still is. An object that does not verify is removed.
   */
  private async verify(key: string, name: string, etag: string, partDigests: Buffer[], md5: string, bytes: number): Promise<StoredObject> {
    const info = await this.stat(key);
    const sent = etag.replace(/"/g, '').toLowerCase();
    const multipartEtag = `${createHash('md5').update(Buffer.concat(partDigests)).digest('hex')}-${partDigests.length}`;
    const matches = MD5.test(sent) ? sent === md5 : MULTIPART_ETAG.test(sent) ? sent === multipartEtag : true;
    if (!info || info.size !== bytes || !matches) {
      await this.client.removeObject(this.bucket, name).catch(() => undefined);
      throw new UnavailableError(`upload of ${key} did not verify (size or checksum differ); the object was removed`, { code: 'upload_corrupt' });
    }
    return { ...info, md5 };
  }

  /**
   * A file still being written (ObjectSource's growingFile) as one multipart upload. While the
   * writer runs, each part lying wholly past `settledFrom` goes up as soon as the file has grown
   * past its end (the file's size is polled). Once it is written, one pass over the file in order
   * computes the whole-content MD5, reads each part sent early again and compares it with the MD5
   * it was sent with (a writer that changed it fails the upload), and sends the parts not yet sent
   * (the head, with ffmpeg's index, last: S3 joins parts by number, not by arrival). A file that
   * ends up no bigger than one part, with nothing sent yet, is a plain file upload.
   */
  private async putGrowing(key: string, name: string, src: GrowingFile, contentType: string): Promise<StoredObject> {
    const state: { written: boolean; writerError?: { err: unknown } } = { written: false };
    const settled = src.written.then(() => { state.written = true; }, (err: unknown) => { state.writerError = { err }; });
    const size = this.partSize;
    const sentEarly = new Map<number, Buffer>();
    const parts: SentPart[] = [];
    const inflight = new Set<Promise<void>>();
    let failure: { err: unknown } | undefined;
    let uploadId: string | undefined;
    let handle: FileHandle | undefined;
    const send = (part: number, payload: Buffer, md5: Buffer): void => {
      const p: Promise<void> = this.sendPart(name, uploadId!, part, payload, md5).then(
        (done) => { parts[part - 1] = done; },
        (err: unknown) => { failure ??= { err }; },
      ).finally(() => inflight.delete(p));
      inflight.add(p);
    };
    /** Waits for a free slot; throws the first part's failure. */
    const slot = async (): Promise<void> => {
      while (inflight.size >= this.partConcurrency && !failure) await Promise.race(inflight);
      if (failure) throw failure.err;
    };
    try {
      await this.ensureBucket();
      // While the writer runs: the parts wholly past settledFrom, in order, as the file grows past them.
      let next = Math.ceil(src.settledFrom / size) + 1;
      while (!state.written && !state.writerError) {
        if (failure) throw failure.err;
        handle ??= await openIfExists(src.file);
        const grown = handle ? (await handle.stat()).size : 0;
        if (handle && grown >= next * size) {
          await slot();
          uploadId ??= await this.client.initiateNewMultipartUpload(this.bucket, name, { 'Content-Type': contentType });
          const payload = await readExactly(handle, (next - 1) * size, size, Buffer.allocUnsafe(size));
          const md5 = createHash('md5').update(payload).digest();
          sentEarly.set(next, md5);
          send(next++, payload, md5);
          continue;
        }
        await Promise.race([settled, sleep(GROW_POLL_MS), ...inflight]);
      }
      if (state.writerError) throw state.writerError.err;
      handle ??= await openIfExists(src.file);
      if (!handle) throw new NotFoundError('the file to upload does not exist', { code: 'source_not_found' });
      const total = (await handle.stat()).size;
      if (!uploadId && total <= size) {
        await handle.close();
        handle = undefined;
        return await this.put(key, { file: src.file }, { contentType });
      }
      uploadId ??= await this.client.initiateNewMultipartUpload(this.bucket, name, { 'Content-Type': contentType });
      // Once written: one pass in order, for the whole MD5, the early parts' check and the rest.
      const whole = createHash('md5');
      const count = Math.ceil(total / size);
      const scratch = sentEarly.size ? Buffer.allocUnsafe(size) : undefined;
      for (let part = 1; part <= count; part++) {
        const length = Math.min(size, total - (part - 1) * size);
        const early = sentEarly.get(part);
        if (!early) await slot();
        const payload = await readExactly(handle, (part - 1) * size, length, early ? scratch! : Buffer.allocUnsafe(length));
        whole.update(payload);
        const md5 = createHash('md5').update(payload).digest();
        if (early && !md5.equals(early)) {
          throw new InvalidStateError(`part ${part} of ${key} changed after it was sent (the writer rewrote bytes past settledFrom)`);
        }
        if (!early) send(part, payload, md5);
      }
      while (inflight.size > 0) await Promise.race(inflight);
      if (failure) throw failure.err;
      const { etag } = await this.client.completeMultipartUpload(this.bucket, name, uploadId, parts.map((p) => ({ part: p.part, etag: p.etag })));
      return await this.verify(key, name, etag, parts.map((p) => p.md5), whole.digest('hex'), total);
    } catch (err) {
      // Every part this upload started settles before the abort (none is left writing).
      while (inflight.size > 0) await Promise.race(inflight);
      if (uploadId) {
        await this.client.abortMultipartUpload(this.bucket, name, uploadId).catch((e: unknown) => this.log.debug({ err: e }, 'could not abort an incomplete upload'));
      }
      // The writer's own failure is the caller's error, as it is.
      if (state.writerError && err === state.writerError.err) throw err;
      throw translate(err, key);
    } finally {
      await handle?.close().catch(() => undefined);
    }
  }

  /**
   * Reads the body into parts of exactly partSize (the last one shorter) and uploads up to
   * partConcurrency of them at once; reading waits while that many are in flight, so memory stays
   * bounded. Returns the parts in order with their MD5s.
   *
   * Each part is retried on its own (sendPart). The first part that fails for good stops the
   * reading, and sendParts() settles only once every part it started has settled, so the caller's
   * abort never races a part still being written, and no rejection is left unobserved.
   */
  private async sendParts(name: string, uploadId: string, body: UploadCheck): Promise<SentPart[]> {
    const parts: SentPart[] = [];
    const inflight = new Set<Promise<void>>();
    let failure: { err: unknown } | undefined;
    let remaining = body.expectedSize;
    let buf = Buffer.allocUnsafe(Math.min(this.partSize, remaining));
    let filled = 0;
    let number = 0;
    const send = (part: number, payload: Buffer): void => {
      const p: Promise<void> = this.sendPart(name, uploadId, part, payload, createHash('md5').update(payload).digest()).then(
        (sent) => { parts[part - 1] = sent; },
        (err: unknown) => { failure ??= { err }; },
      ).finally(() => inflight.delete(p));
      inflight.add(p);
    };
    try {
      reading: for await (const chunk of body as AsyncIterable<Buffer>) {
        let offset = 0;
        while (offset < chunk.length) {
          if (buf.length === 0) throw new InvalidStateError('the upload body ran past its size'); // UploadCheck refuses that first
          const n = Math.min(buf.length - filled, chunk.length - offset);
          chunk.copy(buf, filled, offset, offset + n);
          filled += n;
          offset += n;
          if (filled < buf.length) continue;
          send(++number, buf);
          remaining -= buf.length;
          buf = Buffer.allocUnsafe(Math.min(this.partSize, Math.max(remaining, 0)));
          filled = 0;
          while (inflight.size >= this.partConcurrency && !failure) await Promise.race(inflight);
          if (failure) break reading;
        }
      }
    } finally {
      // Also when reading failed: the parts already sent finish (or fail) before the caller aborts.
      while (inflight.size > 0) await Promise.race(inflight);
    }
    if (failure) throw failure.err;
    return parts;
  }

  /**
   * One part, with its Content-MD5 (the server refuses a part that arrives altered). A connection
   * reset, a stalled connection (stallTimeoutMs without a byte) or a 5xx is retried up to
   * PART_ATTEMPTS times with a short backoff, on a fresh connection: S3 replaces a part sent again
   * under the same number. Each attempt also has a deadline of its own, so a request that neither
   * answers nor fails cannot hold the upload forever.
   */
  private async sendPart(name: string, uploadId: string, part: number, payload: Buffer, md5: Buffer): Promise<SentPart> {
    for (let attempt = 1; ; attempt++) {
      const headers = { 'Content-Length': payload.length, 'Content-MD5': md5.toString('base64') };
      const request = this.client.uploadPart({ bucketName: this.bucket, objectName: name, uploadID: uploadId, partNumber: part, headers }, payload);
      try {
        const { etag } = await withDeadline(request, this.partDeadlineMs(payload.length), `part ${part} got no answer`);
        return { part, etag, md5 };
      } catch (err) {
        if (attempt >= PART_ATTEMPTS || !isTransient(err) || this.closed) throw err;
        this.log.warn({ err, part, attempt, uploadId }, 'a part upload failed; sending it again');
        await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
      }
    }
  }

  /** A whole attempt's bound: the stall timeout plus the part at 256 KB/s (the socket's own idle guard acts long before). */
  private partDeadlineMs(bytes: number): number {
    return 2 * this.stallTimeoutMs + Math.ceil(bytes / 256);
  }

  async get(key: string, range?: ByteRange): Promise<ObjectBody> {
    this.assertOpen();
    assertSafeKey(key);
    const info = await this.stat(key);
    if (!info) throw new NotFoundError(`no object ${key}`);
    const { start, end } = checkRange(range, info.size);
    try {
      const stream = end < start
        ? await this.client.getObject(this.bucket, this.prefix + key)
        : await this.client.getPartialObject(this.bucket, this.prefix + key, start, end - start + 1);
      return { info, stream, start, end };
    } catch (err) {
      throw translate(err, key);
    }
  }

  async stat(key: string): Promise<ObjectInfo | null> {
    this.assertOpen();
    assertSafeKey(key);
    await this.ensureBucket();
    try {
      const st = await this.client.statObject(this.bucket, this.prefix + key);
      const meta = st.metaData as Record<string, string | undefined>;
      return {
        key,
        size: st.size,
        etag: st.etag,
        contentType: meta['content-type'] ?? resolveContentType(key, undefined),
        lastModified: st.lastModified,
      };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw translate(err, key);
    }
  }

  async delete(key: string): Promise<void> {
    this.assertOpen();
    assertSafeKey(key);
    await this.ensureBucket();
    try {
      await this.client.removeObject(this.bucket, this.prefix + key);
    } catch (err) {
      if (!isNotFound(err)) throw translate(err, key);
    }
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ObjectPage> {
    this.assertOpen();
    assertSafePrefix(prefix);
    const { after, limit } = checkListOptions(options);
    await this.ensureBucket();
    let res;
    try {
      // ListObjects V1 with a marker: the same "keys after this one" paging as V2's start-after, and
      // s3rver's V2 cannot answer a truncated page on Node 20 (its continuation tokens use DES,
      // which OpenSSL 3 refuses). S3 and MinIO serve both versions.
      res = await this.client.listObjectsQuery(this.bucket, this.prefix + prefix, after ? this.prefix + after : '', { Delimiter: '', MaxKeys: limit });
    } catch (err) {
      throw translate(err);
    }
    const items: ObjectSummary[] = (res.objects ?? [])
      .filter((o) => typeof o.name === 'string')
      .slice(0, limit)
      .map((o) => ({ key: o.name!.slice(this.prefix.length), size: o.size ?? 0, etag: (o.etag ?? '').replace(/"/g, ''), lastModified: o.lastModified ?? new Date(0) }));
    return res.isTruncated && items.length ? { items, next: items.at(-1)!.key } : { items };
  }

  async presignGet(key: string, options: PresignOptions): Promise<PresignedUrl | null> {
    this.assertOpen();
    assertSafeKey(key);
    const seconds = checkPresign(options);
    const headers = options.downloadName === undefined ? undefined : { 'response-content-disposition': contentDisposition(options.downloadName) };
    const signedAt = new Date();
    try {
      const url = await this.signer.presignedGetObject(this.bucket, this.prefix + key, seconds, headers ?? {}, signedAt);
      return { url, expiresAt: new Date(signedAt.getTime() - signedAt.getMilliseconds() + seconds * 1000) };
    } catch (err) {
      throw translate(err, key);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.agent.destroy();
  }

  /** Creates the bucket on first use; a failure is retried by the next call (MinIO may start after onair). */
  private ensureBucket(): Promise<void> {
    this.bucketReady ??= (async () => {
      if (await this.client.bucketExists(this.bucket)) return;
      try {
        await this.client.makeBucket(this.bucket, this.region);
      } catch (err) {
        const code = (err as S3Error).code;
        if (code !== 'BucketAlreadyOwnedByYou' && code !== 'BucketAlreadyExists') throw err;
      }
    })().catch((err: unknown) => {
      this.bucketReady = undefined;
      throw translate(err);
    });
    return this.bucketReady;
  }

  private assertOpen(): void {
    if (this.closed) throw new InvalidStateError('object store is closed');
  }
}

/**
 * The keep-alive agent of the S3 client, with a guard against stalled connections: a socket that
 * moves no byte for stallTimeoutMs, in use or idle, is destroyed with an error (its request fails
 * and can be retried). Node's own socket timeout only emits 'timeout', which the minio client does
 * not listen to. A pooled socket gets the server's shorter Keep-Alive hint as its idle timeout
 * (Node's keepSocketAlive); it is set back to stallTimeoutMs when a request takes it again.
 */
function stallGuardedAgent(useSSL: boolean, stallTimeoutMs: number): http.Agent {
  const Base = (useSSL ? https.Agent : http.Agent) as typeof http.Agent;
  class StallGuardedAgent extends Base {
    override createConnection(options: ClientRequestArgs, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
      const socket = super.createConnection(options, callback) as Socket | null | undefined;
      socket?.on('timeout', () => socket.destroy(Object.assign(new Error(`no byte moved for ${stallTimeoutMs} ms`), { code: 'ETIMEDOUT' })));
      return socket;
    }

    override reuseSocket(socket: Socket, request: http.ClientRequest): void {
      socket.setTimeout(stallTimeoutMs);
      super.reuseSocket(socket, request);
    }
  }
  return new StallGuardedAgent({ keepAlive: true, maxSockets: 32, timeout: stallTimeoutMs });
}

/** How often the size of a growing file is looked at while its writer runs. */
const GROW_POLL_MS = 20;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The file opened for reading, or undefined while it does not exist yet (its writer has not created it). */
async function openIfExists(file: string): Promise<FileHandle | undefined> {
  try {
    return await open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** `length` bytes at `position` into the start of `buf` (a slice of it is returned); a file that ends first is an error. */
async function readExactly(handle: FileHandle, position: number, length: number, buf: Buffer): Promise<Buffer> {
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buf, filled, length - filled, position + filled);
    if (bytesRead === 0) throw new InvalidStateError(`the file ended at ${position + filled} bytes, before the ${position + length} expected`);
    filled += bytesRead;
  }
  return buf.subarray(0, length);
}

/** Rejects when `promise` has not settled within `ms` (the promise itself runs on, observed). */
function withDeadline<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(message), { code: 'ETIMEDOUT' })), ms);
  });
  promise.catch(() => undefined);
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

const TRANSIENT_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNREFUSED', 'ECONNABORTED', 'EAI_AGAIN', 'InternalError', 'ServiceUnavailable', 'SlowDown', 'RequestTimeout']);

/** Worth sending again: the connection broke or stalled, or the server said it failed on its side. */
function isTransient(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | undefined;
  if (typeof e?.code === 'string' && TRANSIENT_CODES.has(e.code)) return true;
  // minio's own retry of a 5xx ends in a plain Error with this message.
  return typeof e?.message === 'string' && /^Request failed after \d+ retries/.test(e.message);
}

function isNotFound(err: unknown): boolean {
  const code = (err as S3Error | undefined)?.code;
  return code === 'NoSuchKey' || code === 'NotFound';
}

/** Driver errors become domain errors with the original as cause; the client's messages carry no credentials. */
function translate(err: unknown, key?: string): Error {
  if (err instanceof ValidationError || err instanceof NotFoundError || err instanceof InvalidStateError
    || err instanceof ConflictError || err instanceof UnavailableError || err instanceof TypeError) return err;
  const code = (err as S3Error | undefined)?.code;
  if (key !== undefined && isNotFound(err)) return new NotFoundError(`no object ${key}`, { cause: err });
  if (code === 'InvalidRange') return new ValidationError('range not satisfiable', { cause: err, code: 'range_not_satisfiable' });
  return new UnavailableError(`object storage failed${code ? ` (${code})` : ''}`, { cause: err });
}
