import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ConflictError, InvalidStateError, NotFoundError, UnavailableError, ValidationError } from '../errors.js';
import { assertSafeKey, assertSafePrefix, resolveContentType } from './object-key.js';
import { bodySource, checkRange, checkListOptions, checkPresign, growingFileSource } from './object-args.js';
import type {
  ByteRange, ListOptions, ObjectBody, ObjectInfo, ObjectPage, ObjectSource, ObjectStore, ObjectSummary, PresignedUrl,
  PresignOptions, PutOptions, StoredObject,
} from './object-store.port.js';

/** What the sidecar of an object records; it is trusted only while size and mtime still match the data file. */
interface Sidecar {
  contentType: string;
  md5: string;
  size: number;
  mtimeMs: number;
}

const META = '.meta';
const TMP = '.tmp';

/**
 * The embedded object store: a folder (ONAIR_DATA_DIR/objects by default).
 *
 *   <root>/<key>              the bytes
 *   <root>/.meta/<key>.json   content type and MD5 (the etag), with the size and mtime they describe
 *   <root>/.tmp/              uploads in progress: written here, then renamed into place (atomic
 *                             on one filesystem), so a reader never sees half an object
 *
 * Keys never start a segment with a dot (object-key.ts), so '.meta' and '.tmp' cannot collide with
 * one. A data file without a valid sidecar (copied in by hand, or a crash between the two renames)
 * still works: its type comes from the extension and its etag from size and mtime.
 */
export class LocalObjectStore implements ObjectStore {
  readonly kind = 'local' as const;
  private closed = false;

  constructor(readonly root: string) {}

  async put(key: string, source: ObjectSource, options: PutOptions = {}): Promise<StoredObject> {
    this.assertOpen();
    assertSafeKey(key);
    const contentType = resolveContentType(key, options.contentType);
    const growing = growingFileSource(source);
    if (growing) {
      // A copy on the same disk gains nothing from starting early: wait for the writer, then copy
      // the file as it is (its own error, if it fails, is put()'s).
      await growing.written;
      return this.put(key, { file: growing.file }, options);
    }
    const check = await bodySource(source, 0);
    const tmp = join(this.root, TMP, `${randomBytes(8).toString('hex')}.part`);
    try {
      await mkdir(dirname(tmp), { recursive: true });
      await pipeline(check, createWriteStream(tmp, { flags: 'wx' }));
      const { mtimeMs, size } = await stat(tmp);
      const sidecar: Sidecar = { contentType, md5: check.md5(), size, mtimeMs };
      await writeFile(`${tmp}.json`, JSON.stringify(sidecar));
      // Data first, then its sidecar: a reader between the two sees the new bytes with a fallback
      // etag/type (the old sidecar no longer matches size+mtime), never the new sidecar on old bytes.
      await this.moveInto(tmp, this.dataPath(key));
      await this.moveInto(`${tmp}.json`, this.metaPath(key));
      return { key, size, etag: sidecar.md5, contentType, lastModified: new Date(mtimeMs), md5: sidecar.md5 };
    } catch (err) {
      check.destroy();
      await rm(tmp, { force: true });
      await rm(`${tmp}.json`, { force: true });
      if (check.sourceError) throw check.sourceError;
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOTDIR' || code === 'EEXIST' || code === 'EISDIR') {
        // S3 can hold both 'a' and 'a/b'; a folder cannot be a file too.
        throw new ConflictError(`key ${key} collides with a folder of other keys (or the other way round) in the local store`, { cause: err, code: 'object_key_conflict' });
      }
      throw translate(err);
    }
  }

  async get(key: string, range?: ByteRange): Promise<ObjectBody> {
    this.assertOpen();
    assertSafeKey(key);
    let handle;
    try {
      handle = await open(this.dataPath(key), 'r');
    } catch (err) {
      throw translate(err, key);
    }
    try {
      // The open handle pins the content: a put replacing the object meanwhile does not change what we read.
      const st = await handle.stat();
      if (!st.isFile()) throw new NotFoundError(`no object ${key}`);
      const info = await this.describe(key, st.size, st.mtimeMs);
      const { start, end } = checkRange(range, st.size);
      const stream = end < start
        ? Readable.from([])
        : createReadStream('', { fd: handle, start, end, autoClose: true });
      if (end < start) await handle.close();
      return { info, stream, start, end };
    } catch (err) {
      await handle.close().catch(() => undefined);
      throw translate(err, key);
    }
  }

  async stat(key: string): Promise<ObjectInfo | null> {
    this.assertOpen();
    assertSafeKey(key);
    try {
      const st = await stat(this.dataPath(key));
      if (!st.isFile()) return null;
      return await this.describe(key, st.size, st.mtimeMs);
    } catch (err) {
      if (isNotFound(err)) return null;
      throw translate(err, key);
    }
  }

  async delete(key: string): Promise<void> {
    this.assertOpen();
    assertSafeKey(key);
    try {
      await unlink(this.dataPath(key)).catch((err: unknown) => { if (!isNotFound(err)) throw err; });
      await rm(this.metaPath(key), { force: true });
    } catch (err) {
      throw translate(err, key);
    }
    await this.pruneEmptyFolders(dirname(this.dataPath(key)), this.root);
    await this.pruneEmptyFolders(dirname(this.metaPath(key)), join(this.root, META));
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ObjectPage> {
    this.assertOpen();
    assertSafePrefix(prefix);
    const { after, limit } = checkListOptions(options);
    // Walk only the deepest folder the prefix names in full ('rec/2024-' walks 'rec/').
    const base = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/') + 1) : '';
    const keys = (await this.walk(base)).filter((k) => k.startsWith(prefix) && (after === undefined || k > after)).sort();
    const page = keys.slice(0, limit);
    const items: ObjectSummary[] = [];
    for (const key of page) {
      const info = await this.stat(key);
      if (info) items.push({ key, size: info.size, etag: info.etag, lastModified: info.lastModified });
    }
    return keys.length > limit ? { items, next: page.at(-1) } : { items };
  }

  async presignGet(key: string, options: PresignOptions): Promise<PresignedUrl | null> {
    this.assertOpen();
    assertSafeKey(key);
    checkPresign(options);
    return null;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private dataPath(key: string): string {
    return join(this.root, ...key.split('/'));
  }

  private metaPath(key: string): string {
    return `${join(this.root, META, ...key.split('/'))}.json`;
  }

  private async describe(key: string, size: number, mtimeMs: number): Promise<ObjectInfo> {
    const sidecar = await readFile(this.metaPath(key), 'utf8').then((t) => JSON.parse(t) as Sidecar, () => null);
    const valid = sidecar !== null && sidecar.size === size && sidecar.mtimeMs === mtimeMs;
    return {
      key,
      size,
      etag: valid ? sidecar.md5 : `${size.toString(16)}-${Math.round(mtimeMs).toString(16)}`,
      contentType: valid ? sidecar.contentType : resolveContentType(key, undefined),
      lastModified: new Date(mtimeMs),
    };
  }

  /** rename() into place, creating the folder; once more if a concurrent delete pruned the folder in between. */
  private async moveInto(from: string, to: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      await mkdir(dirname(to), { recursive: true });
      try {
        await rename(from, to);
        return;
      } catch (err) {
        if (!isNotFound(err) || attempt >= 2) throw err;
      }
    }
  }

  /** Removes folders a delete left empty, up to (not including) `stop`; a folder that is not empty stays. */
  private async pruneEmptyFolders(dir: string, stop: string): Promise<void> {
    for (let d = dir; d.length > stop.length && d.startsWith(stop); d = dirname(d)) {
      try {
        await rmdir(d);
      } catch {
        return;
      }
    }
  }

  /** Every key under `base` (a '' or 'folder/' prefix), skipping the store's own dot-folders. */
  private async walk(base: string): Promise<string[]> {
    const keys: string[] = [];
    const visit = async (relative: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(join(this.root, ...relative.split('/').filter(Boolean)), { withFileTypes: true });
      } catch (err) {
        if (isNotFound(err)) return;
        throw translate(err);
      }
      for (const entry of entries) {
        if (entry.name.startsWith('.')) continue;
        if (entry.isDirectory()) await visit(`${relative}${entry.name}/`);
        else if (entry.isFile()) keys.push(`${relative}${entry.name}`);
      }
    };
    await visit(base);
    return keys;
  }

  private assertOpen(): void {
    if (this.closed) throw new InvalidStateError('object store is closed');
  }
}

function isNotFound(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** Domain errors pass through; a missing file is NotFoundError; any other filesystem failure is UnavailableError. */
function translate(err: unknown, key?: string): Error {
  if (err instanceof ValidationError || err instanceof NotFoundError || err instanceof InvalidStateError || err instanceof TypeError) return err;
  if (key !== undefined && isNotFound(err)) return new NotFoundError(`no object ${key}`, { cause: err });
  return new UnavailableError('object store failed', { cause: err });
}
