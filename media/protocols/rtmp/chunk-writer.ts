import type { RtmpMessage } from './message-types.js';

/**
 * Serializes RTMP messages into chunks: a type-0 header on the first chunk (absolute timestamp,
 * so the result does not depend on what this connection sent before), type-3 headers on the
 * continuation chunks, and the extended timestamp repeated on every chunk when the timestamp needs
 * it (FFmpeg and librtmp expect it there). Because the output depends only on the message and the
 * chunk size, one serialization can be shared by every RTMP viewer that uses the same chunk size
 * and message stream id.
 */
export const DEFAULT_OUT_CHUNK_SIZE = 4096;

function basicHeaderSize(csid: number): number {
  return csid < 64 ? 1 : csid < 320 ? 2 : 3;
}

function writeBasicHeader(out: Buffer, pos: number, fmt: number, csid: number): number {
  if (csid < 64) {
    out[pos] = (fmt << 6) | csid;
    return pos + 1;
  }
  if (csid < 320) {
    out[pos] = fmt << 6;
    out[pos + 1] = csid - 64;
    return pos + 2;
  }
  out[pos] = (fmt << 6) | 1;
  out[pos + 1] = (csid - 64) & 0xff;
  out[pos + 2] = (csid - 64) >> 8;
  return pos + 3;
}

/** One message as chunks in a single Buffer. */
export function serializeMessage(
  msg: Pick<RtmpMessage, 'csid' | 'typeId' | 'streamId' | 'timestamp' | 'payload'>,
  chunkSize: number,
): Buffer {
  const { csid, payload } = msg;
  const ts = msg.timestamp >>> 0;
  const ext = ts >= 0xffffff;
  const bh = basicHeaderSize(csid);
  const chunks = Math.max(1, Math.ceil(payload.length / chunkSize));
  const size = bh + 11 + (ext ? 4 : 0) + (chunks - 1) * (bh + (ext ? 4 : 0)) + payload.length;
  const out = Buffer.allocUnsafe(size);
  let pos = writeBasicHeader(out, 0, 0, csid);
  out.writeUIntBE(ext ? 0xffffff : ts, pos, 3);
  out.writeUIntBE(payload.length, pos + 3, 3);
  out[pos + 6] = msg.typeId;
  out.writeUInt32LE(msg.streamId, pos + 7);
  pos += 11;
  if (ext) pos = out.writeUInt32BE(ts, pos);
  for (let off = 0; off < payload.length || off === 0; ) {
    const n = Math.min(chunkSize, payload.length - off);
    if (off > 0) {
      pos = writeBasicHeader(out, pos, 3, csid);
      if (ext) pos = out.writeUInt32BE(ts, pos);
    }
    payload.copy(out, pos, off, off + n);
    pos += n;
    off += n;
    if (n === 0) break;
  }
  return out;
}

/**
 * A connection's writer for its own control and command messages. Media for viewers goes through
 * serializeMessage() once per packet instead and is shared.
 */
export class ChunkWriter {
  chunkSize = 128;

  serialize(msg: Pick<RtmpMessage, 'csid' | 'typeId' | 'streamId' | 'timestamp' | 'payload'>): Buffer {
    return serializeMessage(msg, this.chunkSize);
  }
}
