import { parseDuration } from './duration.js';

/** A rate limit from the environment: `points/duration` ('20/1m', '10/1h'); `off` or `0` turns it off (null). */
export interface Rate {
  points: number;
  durationMs: number;
}

export function parseRate(text: string): Rate | null {
  const trimmed = text.trim();
  if (trimmed === 'off' || trimmed === '0') return null;
  const match = /^(\d+)\s*\/\s*(\S+)$/.exec(trimmed);
  if (!match) throw new TypeError(`not a rate: '${text}' (use e.g. 20/1m, 10/1h, or off)`);
  const points = Number(match[1]);
  const durationMs = parseDuration(match[2]!);
  if (points < 1 || durationMs < 1000) throw new TypeError(`not a usable rate: '${text}' (at least 1 per 1s)`);
  return { points, durationMs };
}
