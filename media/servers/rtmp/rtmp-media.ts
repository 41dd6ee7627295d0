import { serializeMessage } from '../../protocols/rtmp/chunk-writer.js';
import type { MediaPacket } from '../../stream/media-packet.js';
import { SharedPacket } from '../../stream/packet.js';

/** Every RTMP viewer uses this out chunk size and message stream id, so one serialization fits all. */
export const OUT_CHUNK_SIZE = 4096;
export const PLAY_STREAM_ID = 1;

const CSID_BY_TYPE: Record<number, number> = { 8: 4, 9: 6, 18: 5 };

/** The packet as RTMP chunks (type-0 header, absolute timestamp), built once per packet and shared. */
export function rtmpChunksOf(p: MediaPacket): Buffer {
  if (p instanceof SharedPacket) {
    if (!p.rtmpChunks) {
      p.rtmpChunks = serializeMessage({ csid: CSID_BY_TYPE[p.type] ?? 5, typeId: p.type, streamId: PLAY_STREAM_ID, timestamp: p.timestamp, payload: p.body }, OUT_CHUNK_SIZE);
      p.rtmpChunkSize = OUT_CHUNK_SIZE;
    }
    return p.rtmpChunks;
  }
  return serializeMessage({ csid: CSID_BY_TYPE[p.type] ?? 5, typeId: p.type, streamId: PLAY_STREAM_ID, timestamp: p.timestamp, payload: p.body }, OUT_CHUNK_SIZE);
}

/**
 * Splits an aggregate message (type 22: FLV-tag-shaped sub-messages) into its parts, with
 * timestamps rebased on the aggregate's own. Malformed tails are ignored.
 */
export function splitAggregate(payload: Buffer, baseTs: number): { type: number; timestamp: number; body: Buffer }[] {
  const out: { type: number; timestamp: number; body: Buffer }[] = [];
  let pos = 0;
  let first = -1;
  while (payload.length - pos >= 11 && out.length < 4096) {
    const type = payload[pos]!;
    const size = payload.readUIntBE(pos + 1, 3);
    const ts = (payload.readUIntBE(pos + 4, 3) | (payload[pos + 7]! << 24)) >>> 0;
    if (pos + 11 + size > payload.length) break;
    if (first < 0) first = ts;
    if (type === 8 || type === 9 || type === 18) {
      out.push({ type, timestamp: (baseTs + (ts - first)) >>> 0, body: payload.subarray(pos + 11, pos + 11 + size) });
    }
    pos += 11 + size + 4;
  }
  return out;
}
