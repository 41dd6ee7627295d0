import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { NotFoundError, UnavailableError } from '../errors.js';
import { contentDisposition } from './object-args.js';
import type { ObjectStore } from './object-store.port.js';

/**
 * Serving an object over HTTP from onair itself: what the HTTP layer does when presignGet() returns
 * null (the local folder), after its own auth check. A <video> element seeks with Range requests,
 * so this answers them: 206 with Content-Range for one range, 416 for a range past the end, 200 for
 * none (or several, or a malformed one: RFC 9110 lets a server ignore those), HEAD, ETag with
 * If-None-Match (304) and If-Range.
 *
 *   router.get('/replays/:id/file', auth, async (req, res, next) => {
 *     try { await sendObject(objects, replay.objectKey, req, res); } catch (err) { next(err); }
 *   });
 *
 * Throws NotFoundError for an absent object before anything is written (the error handler answers
 * 404); a 416 is written here because it needs its Content-Range header. A client that goes away
 * mid-body is not an error.
 */
export interface SendObjectOptions {
  /** Cache-Control header (default: none). */
  cacheControl?: string;
  /** Content-Disposition: attachment with this file name. */
  downloadName?: string;
}

/**
 * The one byte range of a Range header, for an object of `size` bytes: undefined when the header is
 * absent or to be ignored (not bytes, several ranges, malformed), 'unsatisfiable' when it starts
 * past the end.
 */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  if (m[2] !== '' && Number(m[2]) < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end: m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1) };
}

export async function sendObject(store: ObjectStore, key: string, req: IncomingMessage, res: ServerResponse, options: SendObjectOptions = {}, attempt = 1): Promise<void> {
  const info = await store.stat(key);
  if (!info) throw new NotFoundError(`no object ${key}`);
  const etag = `"${info.etag}"`;
  res.setHeader('Accept-Ranges', 'bytes');
  res.setHeader('ETag', etag);
  res.setHeader('Last-Modified', info.lastModified.toUTCString());
  res.setHeader('Content-Type', info.contentType);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  if (options.cacheControl) res.setHeader('Cache-Control', options.cacheControl);
  if (options.downloadName) res.setHeader('Content-Disposition', contentDisposition(options.downloadName));

  const noneMatch = req.headers['if-none-match'];
  if (noneMatch && noneMatch.split(',').some((t) => t.trim().replace(/^W\//, '') === etag || t.trim() === '*')) {
    res.statusCode = 304;
    res.end();
    return;
  }
  const ifRange = req.headers['if-range'];
  const range = ifRange && ifRange !== etag ? undefined : parseRange(req.headers.range, info.size);
  if (range === 'unsatisfiable') {
    res.statusCode = 416;
    res.setHeader('Content-Range', `bytes */${info.size}`);
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ error: { code: 'range_not_satisfiable', message: `the object has ${info.size} bytes` } }));
    return;
  }
  const length = range ? range.end - range.start + 1 : info.size;
  res.statusCode = range ? 206 : 200;
  res.setHeader('Content-Length', String(length));
  if (range) res.setHeader('Content-Range', `bytes ${range.start}-${range.end}/${info.size}`);
  if (req.method === 'HEAD' || length === 0) {
    res.end();
    return;
  }
  const body = await store.get(key, range);
  if (body.info.etag !== info.etag) {
    // Replaced between stat() and get(): the headers describe the old bytes. Start over.
    body.stream.destroy();
    if (attempt >= 3) throw new UnavailableError(`object ${key} keeps changing`);
    return sendObject(store, key, req, res, options, attempt + 1);
  }
  try {
    await pipeline(body.stream, res);
  } catch (err) {
    body.stream.destroy();
    // The client went away (seeking <video> elements do that all the time): nothing to report.
    if ((err as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE' || res.destroyed) return;
    throw err;
  }
}
