import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback, type Writable } from 'node:stream';
import { InvalidStateError, ValidationError } from '../errors.js';

/**
 * The stream every upload passes through, in both adapters: it counts the bytes against the size
 * the caller declared (refusing a stream that runs long at once, and one that ends short at its
 * end), and computes the MD5 of the whole content and, for S3 multipart uploads, of each part, so
 * the adapter can check the server's ETag against what was actually sent.
 *
 * With a part size it also cuts what it passes on into slices of at most 64 KiB that never cross a
 * part boundary. The minio client's part splitter (block-stream2, read with for-await, which takes
 * everything buffered at once) merges a part with the bytes after it when they are buffered
 * together. Fed in such slices, every part is exactly the part size, except that the tail (the
 * last, short part) may still arrive merged with the last full part: the splitter pushes the tail
 * from its flush, inside the read that takes the last full part. So there are two possible part
 * layouts, and multipartEtags() gives the ETag of each (the MinIO test checks the parts s3rver got).
 *
 * Its error also takes down whatever it is piped into. Node's pipe() does not forward errors, and
 * the minio client pipes the body into its part splitter and waits for that to end: without this, a
 * failing source would leave the upload waiting forever.
 */
const SLICE = 64 * 1024;

export class UploadCheck extends Transform {
  private readonly whole = createHash('md5');
  private part: Hash | undefined;
  private partBytes = 0;
  private readonly partDigests: Buffer[] = [];
  /** The last full part's hash, continued through the tail: the ETag of the merged layout. */
  private merged: Hash | undefined;
  private mergedDigest: Buffer | undefined;
  private readonly destinations = new Set<Writable>();
  private wholeHex = '';
  bytes = 0;
  /** The caller's source stream failed with this: put() rethrows it as it is (it is the caller's error, not the store's). */
  sourceError: Error | undefined;

  /** `partSize`: split digests at this size (the S3 multipart part size), or 0 for none. */
  constructor(readonly expectedSize: number, private readonly partSize = 0) {
    super();
    if (!Number.isSafeInteger(expectedSize) || expectedSize < 0) throw new TypeError('size must be a non-negative integer');
  }

  override pipe<T extends NodeJS.WritableStream>(destination: T, options?: { end?: boolean }): T {
    const writable = destination as unknown as Writable;
    if (this.destroyed) {
      // Piped after the failure (minio pipes a multipart body only once the upload is created):
      // nothing will ever flow, so fail the destination now rather than leave it waiting.
      const err = (this.errored as Error | null) ?? new Error('the upload stream was closed');
      process.nextTick(() => writable.destroy(err));
      return destination;
    }
    this.destinations.add(writable);
    return super.pipe(destination, options);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.expectedSize) {
      callback(new ValidationError(`the stream is longer than its declared size of ${this.expectedSize} bytes`, { code: 'size_mismatch' }));
      return;
    }
    this.whole.update(chunk);
    if (this.partSize === 0) {
      callback(null, chunk);
      return;
    }
    let offset = 0;
    while (offset < chunk.length) {
      const take = Math.min(SLICE, this.partSize - this.partBytes, chunk.length - offset);
      const slice = chunk.subarray(offset, offset + take);
      this.updatePart(slice);
      this.push(slice);
      offset += take;
    }
    callback();
  }

  /** Adds a slice that lies within one part. */
  private updatePart(slice: Buffer): void {
    this.part ??= createHash('md5');
    this.part.update(slice);
    this.merged?.update(slice);
    this.partBytes += slice.length;
    if (this.partBytes === this.partSize) {
      const fullParts = Math.floor(this.expectedSize / this.partSize);
      const hasTail = this.expectedSize % this.partSize !== 0;
      // Only the tail (< one part) is hashed twice.
      if (hasTail && fullParts >= 2 && this.partDigests.length === fullParts - 1) this.merged = this.part.copy();
      this.partDigests.push(this.part.digest());
      this.part = undefined;
      this.partBytes = 0;
    }
  }

  override _flush(callback: TransformCallback): void {
    if (this.bytes !== this.expectedSize) {
      callback(new ValidationError(`the stream ended after ${this.bytes} of its declared ${this.expectedSize} bytes`, { code: 'size_mismatch' }));
      return;
    }
    if (this.part) this.partDigests.push(this.part.digest());
    this.part = undefined;
    this.mergedDigest = this.merged?.digest();
    this.wholeHex = this.whole.digest('hex');
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (error) for (const destination of this.destinations) destination.destroy(error);
    callback(error);
  }

  /** MD5 (hex) of everything that went through; valid after the stream ended. */
  md5(): string {
    if (!this.wholeHex) throw new InvalidStateError('md5() before the upload stream ended');
    return this.wholeHex;
  }

  /**
   * The S3 multipart ETags (MD5 of the parts' MD5s, '-', the part count) of the layouts minio may
   * have sent: parts of exactly the part size, and, when there is a tail, the last full part merged
   * with it.
   */
  multipartEtags(): string[] {
    const etag = (digests: Buffer[]) => `${createHash('md5').update(Buffer.concat(digests)).digest('hex')}-${digests.length}`;
    const layouts = [etag(this.partDigests)];
    if (this.mergedDigest) layouts.push(etag([...this.partDigests.slice(0, -2), this.mergedDigest]));
    return layouts;
  }
}
