import { createHash } from 'node:crypto';
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/**
 * Field names that carry credentials. pino replaces their values with "[redacted]" wherever they
 * appear one or two levels deep, so a careless `log.info({ body })` cannot leak a key or password.
 */
const SECRET_FIELDS = [
  'password', 'passwordHash', 'password_hash', 'token', 'accessToken', 'playToken', 'streamKey', 'stream_key',
  'secret', 'txSecret', 'sign', 'authorization', 'cookie', 'key', 'pushUrl', 'push_url',
];
const REDACT_PATHS = [
  ...SECRET_FIELDS,
  ...SECRET_FIELDS.map((f) => `*.${f}`),
  ...SECRET_FIELDS.map((f) => `*.*.${f}`),
  'req.headers.authorization',
  'req.headers.cookie',
];

/** Values that are secrets whatever field holds them: stream keys, scrypt password hashes, JWTs. */
const SECRET_VALUES = [/\bsk_[A-Za-z0-9_-]*/g, /scrypt\$[^\s'",)]*/g, /eyJ[\w-]*\.[\w-]*\.[\w-]*/g];

/** The text with stream keys, password hashes and JWTs masked (an SQL statement, a driver's message). */
export function maskSecretValues(text: string): string {
  return SECRET_VALUES.reduce((t, re) => t.replace(re, '[redacted]'), text);
}

/**
 * pino's error serializer, then the database's words made safe: Sequelize errors carry the failed
 * statement with its values inlined (`sql`, on the error and its `parent`/`original`) and the bound
 * `parameters`; a driver's message may quote a value (MariaDB: "Duplicate entry 'sk_...'"). A
 * statement that failed while reading a stream key or writing a password hash logged it.
 */
function safeErr(err: unknown): unknown {
  const out = pino.stdSerializers.err(err as Error) as unknown;
  const clean = (v: unknown, depth: number): void => {
    if (depth > 4 || v === null || typeof v !== 'object') return;
    const o = v as Record<string, unknown>;
    for (const [k, x] of Object.entries(o)) {
      if (typeof x === 'string' && (k === 'sql' || k === 'message' || k === 'stack' || k === 'sqlMessage')) o[k] = maskSecretValues(x);
      else if (k === 'parameters' || k === 'bind' || k === 'values') o[k] = '[redacted]';
      else if (x && typeof x === 'object') clean(x, depth + 1);
    }
  };
  clean(out, 0);
  return out;
}

/** One root logger per process; components take `log.child({ mod: 'rtmp' })`. */
export function createLogger(options: { level?: string; name?: string; destination?: DestinationStream } = {}): Logger {
  const opts = {
    name: options.name ?? 'onair',
    level: options.level ?? process.env.ONAIR_LOG_LEVEL ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: { err: safeErr },
    base: { pid: process.pid },
  };
  return options.destination ? pino(opts, options.destination) : pino(opts);
}

/** A path segment that has the shape of a stream key (sk_...), with whatever follows it in the segment. */
const KEY_SEGMENT = /\/sk_[^/?]*/g;

/**
 * Drops the query string (it may carry ?token=, ?txSecret=) and masks path segments that look
 * like a stream key (a client may put its key where a room id belongs: /live/sk_....flv), so a
 * URL is safe to log.
 */
export function safeUrl(url: string | undefined): string {
  if (!url) return '';
  const q = url.indexOf('?');
  const path = (q === -1 ? url : url.slice(0, q)).replace(KEY_SEGMENT, '/[key hidden]');
  return q === -1 ? path : `${path}?[query hidden]`;
}

/** The text with anything shaped like a stream key (sk_...) masked: for free text from clients (an RTMP app name). */
export function maskKeys(text: string): string {
  return text.replace(/sk_[A-Za-z0-9_-]*/g, '[key hidden]');
}

/**
 * A requested stream name, fit for a log line. Public names are room ids (digits) and are shown;
 * anything else came from an unverified request and may be a secret (a stream key typed where a
 * room id belongs), so only a short fingerprint is logged: sha256, 10 hex digits, enough to match
 * a suspected value and never enough to recover it.
 */
export function streamNameForLog(name: string): string {
  if (/^\d{1,20}$/.test(name)) return name;
  return `#${createHash('sha256').update(name).digest('hex').slice(0, 10)}`;
}

/** A logger that discards everything: for tests that do not look at logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
