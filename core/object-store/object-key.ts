import { ValidationError } from '../errors.js';

/**
 * The one key check both adapters run (immich's assertSafeKey), so a key that works on the local
 * folder works on S3 and the other way round, and no key can leave the folder or the bucket prefix.
 * The characters are S3's "safe" set; '/' separates segments (folders locally).
 */
// 250, not a filesystem's 255: the local store's sidecar adds '.json' to the last segment.
const SEGMENT = /^[A-Za-z0-9!_'()*-][A-Za-z0-9!_.'()*-]{0,249}$/;
export const MAX_KEY_BYTES = 1024;

function check(value: unknown, what: 'key' | 'prefix'): string {
  if (typeof value !== 'string') throw new ValidationError(`object ${what} must be a string`, { code: 'invalid_object_key' });
  if (value.length > MAX_KEY_BYTES) throw new ValidationError(`object ${what} is longer than ${MAX_KEY_BYTES} bytes`, { code: 'invalid_object_key' });
  return value;
}

function checkSegments(segments: string[], what: 'key' | 'prefix'): void {
  for (const segment of segments) {
    if (!SEGMENT.test(segment)) {
      throw new ValidationError(
        `invalid object ${what}: segments are 1-250 of A-Z a-z 0-9 ! - _ . * ' ( ), not starting with a dot, separated by single '/'`,
        { code: 'invalid_object_key' },
      );
    }
  }
}

/** Throws ValidationError (code invalid_object_key) unless `key` is a safe object key. */
export function assertSafeKey(key: unknown): asserts key is string {
  const value = check(key, 'key');
  if (value === '') throw new ValidationError('object key is empty', { code: 'invalid_object_key' });
  checkSegments(value.split('/'), 'key');
}

/** A list prefix: '' (everything), a key, or a key with a trailing '/'; a partial last segment is fine ('rec/2024-'). */
export function assertSafePrefix(prefix: unknown): asserts prefix is string {
  const value = check(prefix, 'prefix');
  if (value === '') return;
  const segments = value.split('/');
  if (segments.at(-1) === '') segments.pop();
  checkSegments(segments, 'prefix');
}

/** The content type put() stores, from the option or the key's extension. */
const BY_EXTENSION: Record<string, string> = {
  mp4: 'video/mp4', m4v: 'video/mp4', m4s: 'video/iso.segment', mov: 'video/quicktime', webm: 'video/webm',
  flv: 'video/x-flv', ts: 'video/mp2t', m3u8: 'application/vnd.apple.mpegurl', mpd: 'application/dash+xml',
  m4a: 'audio/mp4', aac: 'audio/aac', mp3: 'audio/mpeg', ogg: 'audio/ogg',
  jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp', gif: 'image/gif', avif: 'image/avif',
  json: 'application/json', txt: 'text/plain; charset=utf-8', vtt: 'text/vtt', srt: 'application/x-subrip',
};
const CONTENT_TYPE = /^[A-Za-z0-9][\w.+-]*\/[\w.+-]+(\s*;\s*[\w.-]+=[\w.+-]+)*$/;

export function resolveContentType(key: string, given: string | undefined): string {
  if (given !== undefined) {
    if (typeof given !== 'string' || given.length > 200 || !CONTENT_TYPE.test(given)) {
      throw new ValidationError('contentType must look like type/subtype[; param=value]', { code: 'invalid_content_type' });
    }
    return given;
  }
  const dot = key.lastIndexOf('.');
  const ext = dot > key.lastIndexOf('/') ? key.slice(dot + 1).toLowerCase() : '';
  return BY_EXTENSION[ext] ?? 'application/octet-stream';
}
