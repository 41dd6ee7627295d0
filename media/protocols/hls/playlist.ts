/**
 * Rewrites a media playlist for one viewer: every segment URI gets the viewer's play token in its
 * query, so a player (hls.js, ffplay) that fetches segments relative to the playlist passes the
 * per-request play check. Pure; the playlist is a few hundred bytes, so doing it per request is cheap.
 */
export function withTokenOnSegments(playlist: string, token: string): string {
  const query = `token=${encodeURIComponent(token)}`;
  return playlist
    .split('\n')
    .map((line) => {
      const trimmed = line.trim();
      if (trimmed === '' || trimmed.startsWith('#')) return line;
      return `${trimmed}${trimmed.includes('?') ? '&' : '?'}${query}`;
    })
    .join('\n');
}

/** Highest media sequence number among segment file names, or -1 when there is none. */
export function lastSegmentNumber(fileNames: string[], pattern: RegExp): number {
  let last = -1;
  for (const name of fileNames) {
    const m = pattern.exec(name);
    if (m) last = Math.max(last, Number(m[1]));
  }
  return last;
}
