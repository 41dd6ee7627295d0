/**
 * HLS viewer: polls the playlist and downloads each new segment once, counting bytes. TTFB is the
 * playlist's first byte; "first frame" is the first whole segment (a player needs at least that).
 * Bounded: it stops when closed, on an error, or when the playlist ends.
 */
import { parsePlaylist, resolveEntry } from './hls-playlist.js';
import type { ViewerState } from './viewer-state.js';
import type { ViewerConn } from './viewer.js';

const MAX_PLAYLIST_BYTES = 256 * 1024;
/** A live playlist appears only once the first segment is written: retry a 404 this long, like players do. */
const PLAYLIST_WAIT_MS = 15_000;

export function startHlsViewer(url: URL, state: ViewerState): ViewerConn {
  const abort = new AbortController();
  let closing = false;
  const seen = new Set<number>();

  async function fetchBytes(target: URL, onChunk?: (n: number) => void): Promise<Buffer | number> {
    const res = await fetch(target, { signal: abort.signal, redirect: 'follow' });
    if (res.status !== 200 || !res.body) throw new HlsHttpError(res.status);
    if (!onChunk) {
      const text = Buffer.from(await res.arrayBuffer());
      if (text.length > MAX_PLAYLIST_BYTES) throw new Error('playlist too large');
      return text;
    }
    let total = 0;
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      total += chunk.length;
      onChunk(chunk.length);
    }
    return total;
  }

  async function run(): Promise<void> {
    let playlistUrl = url;
    const waitUntil = Date.now() + PLAYLIST_WAIT_MS;
    for (let rounds = 0; rounds < 100_000 && !closing; rounds++) {
      let text: Buffer;
      try {
        text = (await fetchBytes(playlistUrl)) as Buffer;
      } catch (err) {
        if (!(err instanceof HlsHttpError && err.status === 404 && seen.size === 0 && Date.now() < waitUntil)) throw err;
        await sleep(500, abort.signal);
        continue;
      }
      if (state.firstByteAt === undefined) state.onBytes(0);
      const pl = parsePlaylist(text.toString('utf8'));
      if (pl.variant) {
        playlistUrl = resolveEntry(pl.variant, playlistUrl);
        continue;
      }
      // Start near the live edge, as players do: the last three segments.
      const first = Math.max(0, pl.segments.length - 3);
      for (let i = first; i < pl.segments.length && !closing; i++) {
        const seq = pl.mediaSequence + i;
        if (seen.has(seq)) continue;
        seen.add(seq);
        await fetchBytes(resolveEntry(pl.segments[i]!, playlistUrl), (n) => state.onBytes(n));
        state.onSegment();
      }
      if (pl.ended) return;
      await sleep(Math.max(250, (pl.targetDuration * 1000) / 2), abort.signal);
    }
  }

  run().then(
    () => {
      if (!closing) state.fail('hls-ended');
      state.end();
    },
    (err: unknown) => {
      if (!closing) state.fail(err instanceof HlsHttpError ? `http-${err.status}` : errorKind(err));
      state.end();
    },
  );

  return {
    close() {
      if (closing) return;
      state.end();
      closing = true;
      abort.abort();
    },
  };
}

class HlsHttpError extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}

function errorKind(err: unknown): string {
  const cause = (err as { cause?: { code?: string } })?.cause;
  return cause?.code ?? (err instanceof Error ? `hls-${err.name}` : 'hls-error');
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  });
}
