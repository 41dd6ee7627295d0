/**
 * JSON nesting bounds for every JSON body onair reads from outside. V8's JSON.parse copes with any
 * depth, but whatever walks the value afterwards (JSON.stringify of a refused body, validators,
 * loggers) recurses and overflows the stack: 120,000 levels of `[` answered 500 and logged nothing.
 * No onair body nests past a few levels, so anything deeper than MAX_JSON_DEPTH is refused (400
 * json_too_deep) before it is parsed. The check is one pass over the bytes, no allocation.
 */
export const MAX_JSON_DEPTH = 32;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

/**
 * True when the UTF-8 JSON text nests arrays/objects deeper than `maxDepth`. Brackets inside
 * strings do not count. Malformed text is left to JSON.parse (this only bounds the depth).
 */
export function jsonTooDeep(body: Uint8Array, maxDepth = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > maxDepth) return true;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      depth--;
    }
  }
  return false;
}

const NUL_ESCAPE = Buffer.from('u0000');

/**
 * Whether a JSON text holds a NUL character (the escape \u0000, in a value or a key; a raw NUL byte
 * is not valid JSON and JSON.parse refuses it). No API field ever needs one, and the embedded
 * database (sqlite3) cuts a statement at a NUL: a query with one failed (500) instead of matching nothing.
 */
export function jsonHasNul(body: Uint8Array): boolean {
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (buf.indexOf(NUL_ESCAPE) === -1) return false;
  let inString = false;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i];
    if (inString) {
      if (c === BACKSLASH) {
        if (buf[i + 1] === 0x75 && buf[i + 2] === 0x30 && buf[i + 3] === 0x30 && buf[i + 4] === 0x30 && buf[i + 5] === 0x30) return true;
        i++;
      } else if (c === QUOTE) {
        inString = false;
      }
    } else if (c === QUOTE) {
      inString = true;
    }
  }
  return false;
}

/** A JSON body holding a NUL character (jsonHasNul): 400 `nul_character`. */
export class JsonNulError extends Error {
  readonly status = 400;
  readonly type = 'entity.nul';
  constructor() {
    super('JSON strings must not hold a NUL character (\\u0000)');
    this.name = 'JsonNulError';
  }
}

/** A JSON body nested deeper than the bound: the edges answer 400 `json_too_deep` and log it. */
export class JsonTooDeepError extends Error {
  /** body-parser reads these two: the status of its error, and the type the error handler maps. */
  readonly status = 400;
  readonly type = 'entity.too.deep';
  constructor(readonly maxDepth = MAX_JSON_DEPTH) {
    super(`JSON nested deeper than ${maxDepth} levels`);
    this.name = 'JsonTooDeepError';
  }
}

/** JSON.parse of an outside body, refusing excessive nesting first (throws JsonTooDeepError, or SyntaxError). */
export function parseJsonBody(body: Buffer, maxDepth = MAX_JSON_DEPTH): unknown {
  if (jsonTooDeep(body, maxDepth)) throw new JsonTooDeepError(maxDepth);
  if (jsonHasNul(body)) throw new JsonNulError();
  return JSON.parse(body.toString('utf8'));
}

/**
 * body-parser's `verify` hook for express.json(): refuses too-deep bodies (400) and, as RFC 8259
 * requires UTF-8 between systems, any other charset (415) so the byte scan above is always right.
 */
export function verifyJsonBody(_req: unknown, _res: unknown, body: Buffer, encoding: string | null): void {
  if (encoding && encoding.toLowerCase() !== 'utf-8' && encoding.toLowerCase() !== 'utf8') {
    throw Object.assign(new Error('JSON bodies must be UTF-8'), { status: 415, type: 'charset.unsupported' });
  }
  if (jsonTooDeep(body)) throw new JsonTooDeepError();
  if (jsonHasNul(body)) throw new JsonNulError();
}
