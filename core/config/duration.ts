/** Parses durations such as '500ms', '3s', '10m', '1h', '1d' (or a bare number of milliseconds) into milliseconds. */
const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!match) throw new TypeError(`not a duration: '${text}' (use e.g. 500ms, 3s, 10m, 1h, 1d)`);
  return Math.round(Number(match[1]) * UNITS[match[2] ?? 'ms']!);
}
