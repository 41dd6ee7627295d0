import { pino, type Logger } from 'pino';

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

/** One root logger per process; components take `log.child({ mod: 'rtmp' })`. */
export function createLogger(options: { level?: string; name?: string } = {}): Logger {
  return pino({
    name: options.name ?? 'onair',
    level: options.level ?? process.env.ONAIR_LOG_LEVEL ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { pid: process.pid },
  });
}

/** Drops the query string (it may carry ?token=, ?txSecret=) so a URL is safe to log. */
export function safeUrl(url: string | undefined): string {
  if (!url) return '';
  const q = url.indexOf('?');
  return q === -1 ? url : `${url.slice(0, q)}?[query hidden]`;
}

/** A logger that discards everything: for tests that do not look at logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
