import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { NotFoundError, ValidationError } from '../errors.js';
import { assertSafePrefix } from './object-key.js';
import type { ByteRange, ListOptions, ObjectSource, PresignOptions } from './object-store.port.js';
import { UploadCheck } from './upload-check.js';

/**
 * The argument checks both adapters share, so a call one adapter refuses the other refuses too,
 * with the same error: TypeError for a programmer's mistake, ValidationError for what may have come
 * from a client (a range, a cursor, a download name).
 */

/**
 * Opens a put() source as the body to upload: the source piped through an UploadCheck (counting,
 * hashing, failing with the source). For a stream the piping happens synchronously, so call this
 * before put() awaits anything: a caller's stream that fails early is then caught here instead of
 * being an 'error' event nobody listens to. The returned check always has an error listener; read
 * its failure from check.errored, pipeline() or whenFailed().
 */
export async function bodySource(source: ObjectSource, partSize: number): Promise<UploadCheck> {
  if (source && 'stream' in source && source.stream instanceof Readable) {
    return feed(source.stream, new UploadCheck(source.size, partSize));
  }
  if (source && 'bytes' in source && source.bytes instanceof Uint8Array) {
    const buf = Buffer.from(source.bytes.buffer, source.bytes.byteOffset, source.bytes.byteLength);
    return feed(Readable.from([buf]), new UploadCheck(buf.length, partSize));
  }
  if (source && 'file' in source && typeof source.file === 'string') {
    let size: number;
    try {
      const st = await stat(source.file);
      if (!st.isFile()) throw Object.assign(new Error('not a file'), { code: 'ENOENT' });
      size = st.size;
    } catch (cause) {
      throw new NotFoundError('the file to upload does not exist', { cause, code: 'source_not_found' });
    }
    // 1 MiB reads: a replay is a gigabyte, and 64 KiB reads cost more in calls than in copying.
    return feed(createReadStream(source.file, { highWaterMark: 1024 * 1024 }), new UploadCheck(size, partSize));
  }
  throw new TypeError('put() needs { file }, { stream, size }, { bytes } or { growingFile, written, settledFrom }');
}

/** A file being written (ObjectSource's growingFile), its arguments checked; null for any other source. */
export interface GrowingFile {
  file: string;
  written: Promise<unknown>;
  settledFrom: number;
}

export function growingFileSource(source: ObjectSource): GrowingFile | null {
  if (!source || !('growingFile' in source)) return null;
  const { growingFile, written, settledFrom } = source;
  if (typeof growingFile !== 'string' || growingFile.length === 0 || typeof (written as Promise<unknown> | undefined)?.then !== 'function'
    || !Number.isSafeInteger(settledFrom) || settledFrom < 0) {
    throw new TypeError('put() needs { growingFile, written: Promise, settledFrom >= 0 }');
  }
  // Observed at once: the writer may fail before the adapter first awaits it.
  written.catch(() => undefined);
  return { file: growingFile, written, settledFrom };
}

function feed(stream: Readable, check: UploadCheck): UploadCheck {
  check.on('error', () => undefined);
  // Stop reading the source when the upload ends early for another reason (size, server, a caller's error).
  check.on('close', () => { if (!check.writableFinished && !stream.destroyed) stream.destroy(); });
  if (stream.destroyed) {
    check.sourceError = (stream.errored as Error | null) ?? new Error('the source stream was already closed');
    check.destroy(check.sourceError);
    return check;
  }
  stream.on('error', (err) => {
    check.sourceError ??= err;
    check.destroy(err);
  });
  stream.pipe(check);
  return check;
}

/** Rejects with the check's first error (also one that happened before this call). */
export function whenFailed(check: UploadCheck): Promise<never> {
  const failed = new Promise<never>((_, reject) => {
    if (check.errored) reject(check.errored);
    else check.once('error', reject);
  });
  failed.catch(() => undefined);
  return failed;
}

/** The inclusive range to serve of an object of `size` bytes (end -1 for an empty object read whole). */
export function checkRange(range: ByteRange | undefined, size: number): { start: number; end: number } {
  if (range === undefined) return { start: 0, end: size - 1 };
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || start < 0 || (end !== undefined && (!Number.isSafeInteger(end) || end < start))) {
    throw new TypeError('range must be { start >= 0, end >= start } in whole bytes');
  }
  if (start >= size) {
    throw new ValidationError(`range starts at ${start}, past the object's ${size} bytes`, { code: 'range_not_satisfiable' });
  }
  return { start, end: Math.min(end ?? size - 1, size - 1) };
}

export function checkListOptions(options: ListOptions): { after: string | undefined; limit: number } {
  const limit = options.limit ?? 1000;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new TypeError('list(): limit must be 1-1000');
  if (options.after !== undefined) {
    try {
      assertSafePrefix(options.after);
    } catch (cause) {
      throw new ValidationError('not a list cursor', { cause, code: 'invalid_cursor' });
    }
  }
  return { after: options.after || undefined, limit };
}

const MAX_PRESIGN_MS = 7 * 24 * 3600 * 1000;

/** Checks the options and returns the lifetime in whole seconds (what S3 signs). */
export function checkPresign(options: PresignOptions): number {
  const ms = options?.expiresInMs;
  if (!Number.isInteger(ms) || ms < 1000 || ms > MAX_PRESIGN_MS) throw new TypeError('presignGet(): expiresInMs must be 1 s to 7 days');
  if (options.downloadName !== undefined) contentDisposition(options.downloadName);
  return Math.floor(ms / 1000);
}

/** `attachment` with an ASCII fallback name and the UTF-8 one (RFC 6266); refuses control characters. */
export function contentDisposition(name: string): string {
  // eslint-disable-next-line no-control-regex
  if (typeof name !== 'string' || name.length === 0 || name.length > 200 || /[\u0000-\u001f\u007f"\\/]/.test(name)) {
    throw new ValidationError('downloadName must be 1-200 characters without quotes, slashes or control characters', { code: 'invalid_download_name' });
  }
  const ascii = name.replace(/[^\x20-\x7e]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}
