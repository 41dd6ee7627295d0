import type { Readable } from 'node:stream';

/**
 * The object-storage port: recordings (MP4), posters, screenshots and covers. Two adapters:
 * LocalObjectStore (a folder under ONAIR_DATA_DIR, `npm start`) and MinioObjectStore (S3 or MinIO
 * through the `minio` client, when ONAIR_S3_URL is set); object-store.contract.ts runs the same
 * suite against both.
 *
 * Keys are checked identically by both adapters (object-key.ts): 1-1024 bytes of
 * A-Z a-z 0-9 ! - _ . * ' ( ) and '/', segments of 1-250 characters, none empty and none starting
 * with a dot (so no '.', '..', hidden or reserved names), no leading or trailing '/'. A bad key is a
 * ValidationError (keys may be built from client input: a replay id, a file name).
 *
 * Handing an object to a client: presignGet() returns a short-lived URL on S3 that the client
 * fetches directly (with Range, so a <video> can seek). The local folder has no such URL: it returns
 * null, and the HTTP layer serves the object itself, after its own auth check, with
 * sendObject() (serve-object.ts: Range, HEAD, ETag/If-None-Match).
 */

export interface ObjectSummary {
  key: string;
  size: number;
  /**
   * Changes whenever the content changes. On S3 it is the server's ETag (an MD5, or an MD5 of the
   * parts' MD5s with '-N' for multipart uploads); locally the content's MD5. Opaque: compare, never parse.
   */
  etag: string;
  lastModified: Date;
}

export interface ObjectInfo extends ObjectSummary {
  contentType: string;
}

/** What put() stored, verified: the server's size and checksum match the bytes sent. */
export interface StoredObject extends ObjectInfo {
  /** MD5 (hex) of the whole content, computed while uploading: keep it to verify a download later. */
  md5: string;
}

export type ObjectSource =
  /** A file on this machine (read as a stream; large files go up in parts on S3). */
  | { file: string }
  /** A stream of exactly `size` bytes: a stream that ends early or runs long is refused and nothing is stored. */
  | { stream: Readable; size: number }
  | { bytes: Uint8Array }
  /**
   * A file another process is still writing (the transcoder's remux), uploaded while it grows. The
   * writer may create the file after put() is called. Bytes at or past `settledFrom` may be read as
   * soon as the file has grown past them; the bytes before it (ffmpeg's reserved index and media
   * header, written at its end) and the final size only once `written` resolves. Bytes read early
   * are read again after `written` for the whole-content MD5 and compared with what was sent, so a
   * writer that changed them after all makes put() fail and store nothing. When `written` rejects,
   * put() rejects with that error and stores nothing. The local folder copies the file once it is
   * written; S3 sends the parts past `settledFrom` meanwhile (parts may arrive in any order).
   */
  | { growingFile: string; written: Promise<unknown>; settledFrom: number };

export interface PutOptions {
  /** Default: from the key's extension (.mp4 video/mp4, .jpg image/jpeg, ...), else application/octet-stream. */
  contentType?: string;
}

/** Bytes start..end of an object, both inclusive (as in HTTP's `Range: bytes=start-end`); end defaults to the last byte. */
export interface ByteRange {
  start: number;
  end?: number;
}

export interface ObjectBody {
  info: ObjectInfo;
  /** The requested bytes. Consume or destroy it: it holds a file handle or a socket. */
  stream: Readable;
  /** The range served, inclusive (end is clamped to the last byte; -1 for an empty object). */
  start: number;
  end: number;
}

export interface ListOptions {
  /** Only keys after this one (the `next` of the previous page). */
  after?: string;
  /** Page size, 1-1000 (default 1000). */
  limit?: number;
}

export interface ObjectPage {
  /** In key order (byte order, as S3 lists). */
  items: ObjectSummary[];
  /** Pass as `after` for the next page; absent on the last page. */
  next?: string;
}

export interface PresignOptions {
  /** Lifetime of the URL: 1 s to 7 days. */
  expiresInMs: number;
  /** Makes the browser save the object under this name (Content-Disposition: attachment). */
  downloadName?: string;
}

export interface PresignedUrl {
  url: string;
  expiresAt: Date;
}

export interface ObjectStore {
  /** 'local' or 's3': for logs and health output only; code must not branch on it (use presignGet's null). */
  readonly kind: 'local' | 's3';
  /**
   * Stores (or atomically replaces) the object: readers see the old or the new content, never a
   * part. A source stream that fails makes put() reject with that stream's own error, storing nothing.
   */
  put(key: string, source: ObjectSource, options?: PutOptions): Promise<StoredObject>;
  /** The object's bytes, or a range of them. NotFoundError when absent; a start past the end is a ValidationError with code 'range_not_satisfiable'. */
  get(key: string, range?: ByteRange): Promise<ObjectBody>;
  /** Size, etag, type and date; null when absent. */
  stat(key: string): Promise<ObjectInfo | null>;
  /** Removes the object; deleting an absent key is not an error. */
  delete(key: string): Promise<void>;
  /** Objects whose key starts with `prefix` ('' for all), a page at a time. */
  list(prefix: string, options?: ListOptions): Promise<ObjectPage>;
  /** A URL the client fetches directly (S3), or null: serve it yourself with sendObject() (local). Does not check that the object exists. */
  presignGet(key: string, options: PresignOptions): Promise<PresignedUrl | null>;
  /** Releases connections; idempotent. Later calls throw InvalidStateError. */
  close(): Promise<void>;
}
