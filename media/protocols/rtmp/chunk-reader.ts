import { RtmpProtocolError } from './rtmp-error.js';
import { MsgType, type RtmpMessage } from './message-types.js';

/**
 * Reassembles RTMP messages from the chunk stream: the four chunk header types, extended
 * timestamps (also on type-3 chunks when the chunk stream's header used one, as FFmpeg does),
 * Set Chunk Size and Abort applied in-line, and bounded state: message length, chunk size and the
 * number of chunk streams are capped, and a message's bytes are collected as they arrive (never
 * allocated up-front from the declared length).
 *
 * pause()/resume() stop delivery between two messages: the connection pauses right after a
 * `publish` command so that no media message is even parsed before the publish is authorized.
 */
export interface ChunkReaderLimits {
  maxChunkSize: number;
  maxMessageSize: number;
  maxChunkStreams: number;
  /** Bytes of unfinished messages held across all chunk streams. */
  maxPendingBytes: number;
}

export const DEFAULT_CHUNK_READER_LIMITS: ChunkReaderLimits = {
  maxChunkSize: 65536,
  maxMessageSize: 8 * 1024 * 1024,
  maxChunkStreams: 64,
  maxPendingBytes: 16 * 1024 * 1024,
};

/**
 * Parts of a message kept as they came before the most recent ones are copied into one buffer. A
 * part is a view of the read it came in (no copy) and costs ~100 bytes of bookkeeping, so a message
 * in tiny chunks (Set Chunk Size 1: two wire bytes per payload byte) held one object per byte: 4 MiB
 * of payload took ~370 MB. Real encoders' messages have a few parts and never get here.
 */
const MERGE_PARTS = 256;

interface ChunkStreamState {
  typeId: number;
  streamId: number;
  length: number;
  timestamp: number;
  /** Last raw timestamp field (absolute for type 0, delta for types 1/2); type 3 reuses it. */
  tsField: number;
  extended: boolean;
  parts: Buffer[];
  /** Parts at the end of `parts` not yet merged (MERGE_PARTS). */
  loose: number;
  received: number;
}

export class ChunkReader {
  chunkSize = 128;
  /** All bytes consumed, for acknowledgements. */
  bytesRead = 0;
  private buf: Buffer = Buffer.alloc(0);
  private readonly streams = new Map<number, ChunkStreamState>();
  private paused = false;
  private pendingBytes = 0;
  private readonly limits: ChunkReaderLimits;

  constructor(
    private readonly onMessage: (msg: RtmpMessage) => void,
    limits: Partial<ChunkReaderLimits> = {},
  ) {
    this.limits = { ...DEFAULT_CHUNK_READER_LIMITS, ...limits };
  }

  /** Feeds bytes; delivers every complete message unless paused. Throws RtmpProtocolError. */
  push(chunk: Buffer): void {
    this.bytesRead += chunk.length;
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    this.drain();
  }

  pause(): void {
    this.paused = true;
  }

  /** Continues with the bytes held while paused. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.drain();
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** Bytes received but not yet parsed (held while paused, or an incomplete chunk). */
  get bufferedBytes(): number {
    return this.buf.length;
  }

  private drain(): void {
    let pos = 0;
    const buf = this.buf;
    while (!this.paused) {
      const used = this.readChunk(buf, pos);
      if (used === 0) break;
      pos += used;
    }
    this.buf = pos === 0 ? buf : pos >= buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(pos));
  }

  /** Parses one chunk at `pos`; returns the bytes it used, or 0 when the chunk is incomplete. */
  private readChunk(buf: Buffer, start: number): number {
    const avail = buf.length - start;
    if (avail < 1) return 0;
    let pos = start;
    const b0 = buf[pos++]!;
    const fmt = b0 >> 6;
    let csid = b0 & 0x3f;
    if (csid === 0) {
      if (avail < 2) return 0;
      csid = 64 + buf[pos++]!;
    } else if (csid === 1) {
      if (avail < 3) return 0;
      csid = 64 + buf[pos]! + buf[pos + 1]! * 256;
      pos += 2;
    }
    const headerLen = fmt === 0 ? 11 : fmt === 1 ? 7 : fmt === 2 ? 3 : 0;
    if (buf.length - pos < headerLen) return 0;

    let st = this.streams.get(csid);
    if (!st) {
      if (fmt !== 0) throw new RtmpProtocolError(`chunk stream ${csid} starts with a type-${fmt} header`);
      if (this.streams.size >= this.limits.maxChunkStreams) throw new RtmpProtocolError('too many chunk streams');
      st = { typeId: 0, streamId: 0, length: 0, timestamp: 0, tsField: 0, extended: false, parts: [], loose: 0, received: 0 };
      this.streams.set(csid, st);
    }
    const continuing = st.received > 0;
    if (continuing && fmt !== 3) throw new RtmpProtocolError(`type-${fmt} header in the middle of a message on chunk stream ${csid}`);

    let tsField = st.tsField;
    let length = st.length;
    let typeId = st.typeId;
    let streamId = st.streamId;
    if (fmt <= 2) tsField = buf.readUIntBE(pos, 3);
    if (fmt <= 1) {
      length = buf.readUIntBE(pos + 3, 3);
      typeId = buf[pos + 6]!;
    }
    if (fmt === 0) streamId = buf.readUInt32LE(pos + 7);
    pos += headerLen;

    // Extended timestamp: present when the 24-bit field is 0xffffff, and on type-3 chunks of a
    // chunk stream whose last header needed it.
    const extended = fmt === 3 ? st.extended : tsField === 0xffffff;
    if (extended) {
      if (buf.length - pos < 4) return 0;
      if (fmt !== 3) tsField = buf.readUInt32BE(pos);
      pos += 4;
    }

    if (length > this.limits.maxMessageSize) throw new RtmpProtocolError(`message of ${length} bytes exceeds the cap`);
    const want = Math.min(this.chunkSize, length - st.received);
    if (buf.length - pos < want) return 0;

    // The chunk is complete: commit the header state.
    if (!continuing) {
      st.timestamp = fmt === 0 ? tsField : (st.timestamp + tsField) >>> 0;
      st.tsField = tsField;
      st.extended = extended;
      st.length = length;
      st.typeId = typeId;
      st.streamId = streamId;
    }
    if (want > 0 && st.parts.push(buf.subarray(pos, pos + want)) > 1 && ++st.loose >= MERGE_PARTS) {
      st.parts.push(Buffer.concat(st.parts.splice(st.parts.length - st.loose)));
      st.loose = 0;
    }
    st.received += want;
    this.pendingBytes += want;
    if (this.pendingBytes > this.limits.maxPendingBytes) throw new RtmpProtocolError('too many unfinished message bytes');
    pos += want;

    if (st.received >= st.length) {
      const payload = st.parts.length === 1 ? Buffer.from(st.parts[0]!) : Buffer.concat(st.parts, st.length);
      st.parts = [];
      st.loose = 0;
      this.pendingBytes -= st.received;
      st.received = 0;
      const msg: RtmpMessage = { csid, typeId: st.typeId, streamId: st.streamId, timestamp: st.timestamp, payload };
      this.control(msg);
      this.onMessage(msg);
    }
    return pos - start;
  }

  /** Protocol control that changes how the following chunks are parsed. */
  private control(msg: RtmpMessage): void {
    if (msg.typeId === MsgType.SetChunkSize) {
      if (msg.payload.length < 4) throw new RtmpProtocolError('short Set Chunk Size');
      const size = msg.payload.readUInt32BE(0) & 0x7fffffff;
      if (size < 1 || size > this.limits.maxChunkSize) throw new RtmpProtocolError(`chunk size ${size} out of range`);
      this.chunkSize = size;
    } else if (msg.typeId === MsgType.Abort) {
      if (msg.payload.length < 4) throw new RtmpProtocolError('short Abort');
      const st = this.streams.get(msg.payload.readUInt32BE(0));
      if (st) {
        st.parts = [];
        st.loose = 0;
        this.pendingBytes -= st.received;
        st.received = 0;
      }
    }
  }
}
