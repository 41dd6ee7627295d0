/** The few HLS playlist facts a load-test viewer needs (pure). */

export interface HlsPlaylist {
  /** A master playlist's first variant URI, when this is a master playlist. */
  variant?: string;
  targetDuration: number;
  mediaSequence: number;
  segments: string[];
  ended: boolean;
}

const MAX_LINES = 10_000;

export function parsePlaylist(text: string): HlsPlaylist {
  const lines = text.split(/\r?\n/, MAX_LINES).map((l) => l.trim());
  if (lines[0] !== '#EXTM3U') throw new Error('not an m3u8 playlist');
  const out: HlsPlaylist = { targetDuration: 2, mediaSequence: 0, segments: [], ended: false };
  let expectVariant = false;
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    if (line.startsWith('#EXT-X-STREAM-INF')) expectVariant = true;
    else if (line.startsWith('#EXT-X-TARGETDURATION:')) out.targetDuration = Number(line.split(':')[1]) || 2;
    else if (line.startsWith('#EXT-X-MEDIA-SEQUENCE:')) out.mediaSequence = Number(line.split(':')[1]) || 0;
    else if (line === '#EXT-X-ENDLIST') out.ended = true;
    else if (!line.startsWith('#')) {
      if (expectVariant) {
        out.variant ??= line;
        expectVariant = false;
      } else out.segments.push(line);
    }
  }
  return out;
}

/** Resolves a playlist entry against the playlist URL, keeping the playlist's query (the token) when the entry has none. */
export function resolveEntry(entry: string, playlistUrl: URL): URL {
  const u = new URL(entry, playlistUrl);
  if (!u.search && playlistUrl.search) u.search = playlistUrl.search;
  return u;
}
