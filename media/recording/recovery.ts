import { hostname } from 'node:os';
import { open, readdir, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { OpenMarker } from './open-marker.schema.js';
import type { RecordDone } from '../../core/media/media-contract.js';

/**
 * Crash recovery of recordings. While a recording file is written, a marker `{file}.open` lies next
 * to it naming the show (stream, publisher, session, segment, start, host); the recorder removes it
 * once the file is closed and its record.done emitted. A marker still there afterwards means media
 * died (kill -9, OOM, power) with the file open: the file is truncated, not lost. FLV is a sequence
 * of self-delimited tags, so everything up to the last whole tag is still a recording ffmpeg remuxes
 * (the remux stops at the cut tag). recoverRecordings() announces each such file as record.done
 * (`final`: the show ended there) and removes its marker.
 *
 * Which markers are orphans: those written by this host (a media process starts with no recording
 * of its own open, so every marker of its host is a previous life's), and any marker whose file was
 * not written to for `staleMs` (a media container recreated under another host name, or a host that
 * never came back). Markers of files this process is writing are skipped (`owned`).
 */
export const OPEN_MARKER = '.open';

export type { OpenMarker } from './open-marker.schema.js';

export function markerFor(m: Omit<OpenMarker, 'host'>): string {
  return JSON.stringify({ ...m, host: hostname() });
}

/**
 * The media duration of an FLV file as far as it is whole: the largest audio/video tag timestamp
 * (the recorder rebases them to start at 0), walking tag headers only. A tag cut short by the
 * crash ends the walk.
 */
export async function flvDurationMs(path: string): Promise<number> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const head = Buffer.alloc(11);
    let pos = 9 + 4; // FLV header, PreviousTagSize0
    let max = 0;
    for (let n = 0; n < 50_000_000 && pos + 11 <= size; n++) {
      const { bytesRead } = await fh.read(head, 0, 11, pos);
      if (bytesRead < 11) break;
      const type = head[0]! & 0x1f;
      const dataSize = head.readUIntBE(1, 3);
      const ts = (head.readUIntBE(4, 3) | (head[7]! << 24)) >>> 0;
      if (pos + 11 + dataSize > size) break;
      if ((type === 8 || type === 9) && ts < 0x80000000 && ts > max) max = ts;
      pos += 11 + dataSize + 4;
    }
    return max;
  } finally {
    await fh.close();
  }
}

export interface RecoveryOptions {
  dir: string;
  /** A marker of another host is an orphan once its file was untouched this long. */
  staleMs: number;
  /** Files this process is writing (never recovered). */
  owned: ReadonlySet<string>;
  emit(payload: RecordDone): void;
  warn(obj: object, msg: string): void;
  now?: () => number;
}

/** Announces orphaned recordings and removes their markers; answers how many. Never throws for one bad marker. */
export async function recoverRecordings(o: RecoveryOptions): Promise<number> {
  const now = o.now?.() ?? Date.now();
  const me = hostname();
  const found: { marker: OpenMarker; path: string; size: number; mtimeMs: number }[] = [];
  const streams = await readdir(o.dir, { withFileTypes: true }).catch(() => []);
  for (const d of streams) {
    if (!d.isDirectory()) continue;
    const folder = join(o.dir, d.name);
    for (const name of await readdir(folder).catch(() => [] as string[])) {
      if (!name.endsWith(`.flv${OPEN_MARKER}`)) continue;
      const markerPath = join(folder, name);
      const path = markerPath.slice(0, -OPEN_MARKER.length);
      if (o.owned.has(path)) continue;
      try {
        // zod loads only when a marker is found: an idle media service never holds it (docs/benchmarks.md).
        const { markerSchema } = await import('./open-marker.schema.js');
        const marker = markerSchema.parse(JSON.parse(await readFile(markerPath, 'utf8')));
        const st = await stat(path).catch(() => null);
        if (!st) {
          await unlink(markerPath).catch(() => undefined);
          continue;
        }
        if (marker.host !== me && now - st.mtimeMs < o.staleMs) continue;
        found.push({ marker, path, size: st.size, mtimeMs: st.mtimeMs });
      } catch (err) {
        o.warn({ err, marker: markerPath }, 'unreadable recording marker; leaving it');
      }
    }
  }
  // The last file of each publish is the show's last segment (the crash ended the show).
  const last = new Map<string, number>();
  for (const f of found) last.set(f.marker.publisherId, Math.max(last.get(f.marker.publisherId) ?? -1, f.marker.segment ?? 0));
  found.sort((a, b) => (a.marker.segment ?? 0) - (b.marker.segment ?? 0));
  for (const f of found) {
    const { marker } = f;
    const durationMs = await flvDurationMs(f.path).catch(() => 0);
    const endedAt = Math.max(marker.startedAt, Math.round(f.mtimeMs));
    o.emit({
      streamName: marker.streamName, publisherId: marker.publisherId, ...(marker.sessionId !== undefined ? { sessionId: marker.sessionId } : {}),
      path: f.path, ...(marker.segment !== undefined ? { segment: marker.segment } : {}),
      ...(last.get(marker.publisherId) === (marker.segment ?? 0) ? { final: true } : {}),
      startedAt: marker.startedAt, endedAt, durationMs: durationMs > 0 ? durationMs : endedAt - marker.startedAt, size: f.size,
    });
    await unlink(`${f.path}${OPEN_MARKER}`).catch(() => undefined);
  }
  return found.length;
}
