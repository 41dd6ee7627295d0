/**
 * The stream `npm run bench:loopback-ceiling` writes (pure, tested): the bench sample's FLV tags cut
 * into 100 ms ticks, and the small file both writers (bench/lib/loopback-writer.c and
 * loopback-writer-node.ts) read it from.
 *
 * A viewer gets `head` once (an HTTP/1.1 200 response with no length, the FLV file header, and the
 * sample's init tags: onMetaData and the AVC / AAC sequence headers), then one tick's chunk per tick:
 * the tags whose timestamps fall in that 100 ms of the sample, looped. Every chunk starts and ends on
 * a tag boundary, so a viewer that joins at any tick, or whose writer drops whole ticks, still reads
 * a valid FLV stream (the stress tool's HTTP-FLV viewer parses every tag header). Timestamps jump back
 * when the 10 s sample loops; the stress viewer does not care, a player would.
 */
import type { FileTag } from '../../stress/flv/flv-file.js';
import { encodeFlvTag, FLV_HEADER, FLV_TAG_SCRIPT, isSequenceHeader } from '../../media/protocols/flv/flv-tag.js';

export const TICK_MS = 100;

/** The bytes of one FLV tag on the wire: 11-byte header, body, 4-byte PreviousTagSize (the engine's encoder). */
export function tagBytes(tag: FileTag): Buffer {
  return encodeFlvTag(tag.type, tag.timestamp, tag.body);
}

/** Tags a player needs before any frame: script data and the video / audio sequence headers. */
export function isInitTag(tag: FileTag): boolean {
  return tag.type === FLV_TAG_SCRIPT || isSequenceHeader(tag.type, tag.body);
}

/** FLV file header (audio + video) and PreviousTagSize0. */
export const FLV_FILE_HEADER = FLV_HEADER(true, true);

/** An HTTP-FLV response head with no length (the body runs until the server closes), as a live server sends it. */
export const HTTP_HEAD = 'HTTP/1.1 200 OK\r\nContent-Type: video/x-flv\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n';

export interface TickStream {
  /** Sent once to each viewer before its first chunk. */
  head: Buffer;
  /** One chunk per tick of the looped sample, whole tags each. */
  chunks: Buffer[];
  /** Bytes per second the loop carries (chunk bytes / loop duration). */
  bytesPerSec: number;
}

/**
 * Cuts the media tags of a sample lasting `durationMs` into round(durationMs / tickMs) ticks by
 * timestamp (from the first media tag); tags past the last tick's end go into the last tick, so the
 * loop lasts exactly ticks x tickMs.
 */
export function tickStream(tags: readonly FileTag[], durationMs: number, tickMs = TICK_MS): TickStream {
  const init = tags.filter(isInitTag);
  const media = tags.filter((t) => !isInitTag(t) && (t.type === 8 || t.type === 9));
  if (media.length === 0) throw new Error('no media tags');
  const ticks = Math.max(1, Math.round(durationMs / tickMs));
  const first = media[0]!.timestamp;
  const perTick: Buffer[][] = Array.from({ length: ticks }, () => []);
  for (const t of media) perTick[Math.min(ticks - 1, Math.floor((t.timestamp - first) / tickMs))]!.push(tagBytes(t));
  const chunks = perTick.map((bufs) => Buffer.concat(bufs));
  const total = chunks.reduce((s, c) => s + c.length, 0);
  const head = Buffer.concat([Buffer.from(HTTP_HEAD, 'latin1'), FLV_FILE_HEADER, ...init.map(tagBytes)]);
  return { head, chunks, bytesPerSec: (total / (ticks * tickMs)) * 1000 };
}

/** Bytes of `tickMs` of a stream of `bytesPerSec` (the average chunk). */
export function tickBytes(bytesPerSec: number, tickMs = TICK_MS): number {
  return Math.round((bytesPerSec * tickMs) / 1000);
}

const MAGIC = 0x4f414c43; // "OALC"

/**
 * The writers' input file, little-endian: u32 magic, u32 tick ms, u32 head length, u32 chunk count,
 * u32 length of each chunk, then the head and the chunks' bytes.
 */
export function encodeTickStream(s: TickStream, tickMs = TICK_MS): Buffer {
  const meta = Buffer.alloc(16 + 4 * s.chunks.length);
  meta.writeUInt32LE(MAGIC, 0);
  meta.writeUInt32LE(tickMs, 4);
  meta.writeUInt32LE(s.head.length, 8);
  meta.writeUInt32LE(s.chunks.length, 12);
  s.chunks.forEach((c, i) => meta.writeUInt32LE(c.length, 16 + 4 * i));
  return Buffer.concat([meta, s.head, ...s.chunks]);
}

export function decodeTickStream(buf: Buffer): { tickMs: number; head: Buffer; chunks: Buffer[] } {
  if (buf.length < 16 || buf.readUInt32LE(0) !== MAGIC) throw new Error('not a tick stream file');
  const tickMs = buf.readUInt32LE(4);
  const headLen = buf.readUInt32LE(8);
  const n = buf.readUInt32LE(12);
  let pos = 16 + 4 * n;
  const head = buf.subarray(pos, pos + headLen);
  pos += headLen;
  const chunks: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const len = buf.readUInt32LE(16 + 4 * i);
    chunks.push(buf.subarray(pos, pos + len));
    pos += len;
  }
  if (pos !== buf.length) throw new Error('tick stream file: lengths do not add up');
  return { tickMs, head, chunks };
}

/** What ceilingStep needs of a step. */
export interface CeilingRow {
  viewers: number;
  healthyShare: number;
  core0Percent: number;
}

/**
 * Where a writer's ladder met its ceiling: the first step whose writer core is at `saturated` % or
 * more, or whose healthy share is below `healthyStop`; undefined when no step did.
 */
export function ceilingStep<R extends CeilingRow>(rows: readonly R[], saturated: number, healthyStop = 0.95): { row: R; why: string } | undefined {
  for (const r of [...rows].sort((a, b) => a.viewers - b.viewers)) {
    const why: string[] = [];
    if (r.core0Percent >= saturated) why.push(`core 0 at ${r.core0Percent.toFixed(0)} %`);
    if (r.healthyShare < healthyStop) why.push(`${(r.healthyShare * 100).toFixed(1)} % healthy`);
    if (why.length) return { row: r, why: why.join(', ') };
  }
  return undefined;
}
