/**
 * A DATETIME column as the drivers hand it back, in epoch ms: mysql2 gives a Date, sqlite3 a string
 * (`YYYY-MM-DD HH:MM:SS.sss`, with `+00:00` or without a zone, which is UTC here), raw queries may
 * give a number. NaN for null or a value that does not parse.
 */
export function dbTimeMs(v: Date | string | number | null | undefined): number {
  if (v === null || v === undefined) return Number.NaN;
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'number') return v;
  return Date.parse(/(?:[zZ]|[+-]\d\d:?\d\d)$/.test(v) ? v : `${v}Z`);
}
