/** Reads a whole (small) FLV file into tags: the looped sample of the probe publisher. */

export interface FileTag {
  type: number;
  timestamp: number;
  body: Buffer;
}

export interface FlvFile {
  tags: FileTag[];
  /** From the first to the last tag timestamp plus one frame, ms. */
  durationMs: number;
  /** Tag bytes (header + body + trailer) per second: what a viewer of this sample receives. */
  bytesPerSec: number;
}

export function readFlvFile(buf: Buffer, maxTags = 1_000_000): FlvFile {
  if (buf.length < 13 || buf.toString('latin1', 0, 3) !== 'FLV') throw new Error('not an FLV file');
  let pos = buf.readUInt32BE(5) + 4;
  const tags: FileTag[] = [];
  let bytes = 0;
  while (pos + 11 <= buf.length && tags.length < maxTags) {
    const type = buf[pos]! & 0x1f;
    const size = buf.readUIntBE(pos + 1, 3);
    const timestamp = (buf.readUIntBE(pos + 4, 3) | (buf[pos + 7]! << 24)) >>> 0;
    if (pos + 11 + size + 4 > buf.length) break; // truncated last tag
    tags.push({ type, timestamp, body: buf.subarray(pos + 11, pos + 11 + size) });
    bytes += 11 + size + 4;
    pos += 11 + size + 4;
  }
  const media = tags.filter((t) => t.type === 8 || t.type === 9);
  if (media.length === 0) throw new Error('FLV file has no media');
  const first = media[0]!.timestamp;
  const last = media[media.length - 1]!.timestamp;
  const video = media.filter((t) => t.type === 9);
  const frameMs = video.length > 1 ? (video[video.length - 1]!.timestamp - video[0]!.timestamp) / (video.length - 1) : 33;
  const durationMs = Math.max(1, last - first + frameMs);
  return { tags, durationMs, bytesPerSec: (bytes / durationMs) * 1000 };
}
