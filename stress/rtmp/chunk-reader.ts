/**
 * RTMP chunk-stream reader for the stress tool's client. Audio and video messages are never
 * assembled: the reader keeps only the first `headBytes` of each and reports its size, which is all
 * a load-test viewer needs. Control, command and data messages (small) are assembled up to a cap.
 * Input may be a reused buffer: nothing refers to it after push() returns.
 * Why not the engine's media/protocols/rtmp/chunk-reader.ts: it assembles every message (a copy per
 * message), which one load core cannot afford for thousands of viewers. The handshake, AMF0 and the
 * chunk writer are the engine's.
 */

export interface RtmpMessage {
  type: number;
  streamId: number;
  timestamp: number;
  length: number;
  /** Whole body for non-media messages; the first headBytes for audio/video. */
  body: Buffer;
}

export type OnRtmpMessage = (msg: RtmpMessage) => void;

const MAX_MESSAGE = 16 * 1024 * 1024 - 1;
/** Non-media messages larger than this are skipped (metadata, commands are far smaller). */
const MAX_ASSEMBLED = 256 * 1024;
const MAX_CHUNK_STREAMS = 64;

interface ChunkStream {
  timestamp: number;
  delta: number;
  length: number;
  type: number;
  streamId: number;
  hasExtendedTs: boolean;
  remaining: number;
  /** Bytes of the current message kept so far (head for media, whole body otherwise). */
  kept: Buffer;
  keptHave: number;
  keep: number;
}

export class RtmpChunkReader {
  chunkSize = 128;
  private readonly header = Buffer.alloc(18);
  private headerHave = 0;
  private current: ChunkStream | undefined;
  /** Payload bytes left in the current chunk. */
  private chunkLeft = 0;
  private readonly streams = new Map<number, ChunkStream>();
  error: string | undefined;

  constructor(
    private readonly onMessage: OnRtmpMessage,
    private readonly headBytes = 48,
  ) {}

  push(buf: Buffer, start = 0, end = buf.length): void {
    let pos = start;
    while (pos < end && this.error === undefined) {
      if (this.chunkLeft === 0) {
        // Header bytes one at a time until the header is complete (headers are at most 18 bytes).
        const want = this.headerLength();
        if (this.headerHave < want) {
          const n = Math.min(want - this.headerHave, end - pos);
          buf.copy(this.header, this.headerHave, pos, pos + n);
          this.headerHave += n;
          pos += n;
          continue;
        }
        this.startChunk();
        continue;
      }
      const cs = this.current!;
      const n = Math.min(this.chunkLeft, end - pos);
      if (cs.keptHave < cs.keep) {
        const k = Math.min(n, cs.keep - cs.keptHave);
        buf.copy(cs.kept, cs.keptHave, pos, pos + k);
        cs.keptHave += k;
      }
      pos += n;
      this.chunkLeft -= n;
      cs.remaining -= n;
      if (cs.remaining === 0) this.finishMessage(cs);
      if (this.chunkLeft === 0) this.headerHave = 0;
    }
  }

  /** Length of the header being read, given the bytes seen so far. */
  private headerLength(): number {
    const h = this.header;
    if (this.headerHave < 1) return 1;
    const fmt = h[0]! >> 6;
    const low = h[0]! & 0x3f;
    const basic = low === 0 ? 2 : low === 1 ? 3 : 1;
    if (this.headerHave < basic) return basic;
    const mh = fmt === 0 ? 11 : fmt === 1 ? 7 : fmt === 2 ? 3 : 0;
    if (this.headerHave < basic + mh) return basic + mh;
    let extended: boolean;
    if (fmt < 3) extended = h.readUIntBE(basic, 3) === 0xffffff;
    else extended = this.streams.get(this.csid(basic))?.hasExtendedTs ?? false;
    return basic + mh + (extended ? 4 : 0);
  }

  private csid(basic: number): number {
    const h = this.header;
    if (basic === 1) return h[0]! & 0x3f;
    if (basic === 2) return 64 + h[1]!;
    return 64 + h[1]! + h[2]! * 256;
  }

  private startChunk(): void {
    const h = this.header;
    const fmt = h[0]! >> 6;
    const low = h[0]! & 0x3f;
    const basic = low === 0 ? 2 : low === 1 ? 3 : 1;
    const id = this.csid(basic);
    let cs = this.streams.get(id);
    if (!cs) {
      if (fmt !== 0 && fmt !== 1) return this.fail(`chunk stream ${id} starts without a full header`);
      if (this.streams.size >= MAX_CHUNK_STREAMS) return this.fail('too many chunk streams');
      cs = { timestamp: 0, delta: 0, length: 0, type: 0, streamId: 0, hasExtendedTs: false, remaining: 0, kept: Buffer.alloc(0), keptHave: 0, keep: 0 };
      this.streams.set(id, cs);
    }
    let p = basic;
    let ts = 0;
    if (fmt < 3) {
      ts = h.readUIntBE(p, 3);
      p += 3;
    }
    if (fmt < 2) {
      cs.length = h.readUIntBE(p, 3);
      cs.type = h[p + 3]!;
      p += 4;
    }
    if (fmt === 0) {
      cs.streamId = h.readUInt32LE(p);
      p += 4;
    }
    if (fmt < 3) {
      cs.hasExtendedTs = ts === 0xffffff;
      if (cs.hasExtendedTs) ts = h.readUInt32BE(p);
    }
    if (cs.remaining === 0) {
      // A new message on this chunk stream.
      if (fmt === 0) cs.timestamp = ts;
      else if (fmt === 3) cs.timestamp = (cs.timestamp + cs.delta) >>> 0;
      else {
        cs.delta = ts;
        cs.timestamp = (cs.timestamp + ts) >>> 0;
      }
      if (cs.length > MAX_MESSAGE) return this.fail('message too long');
      cs.remaining = cs.length;
      const isMedia = cs.type === 8 || cs.type === 9;
      cs.keep = isMedia ? Math.min(cs.length, this.headBytes) : cs.length <= MAX_ASSEMBLED ? cs.length : 0;
      if (cs.kept.length < cs.keep) cs.kept = Buffer.alloc(Math.max(cs.keep, this.headBytes));
      cs.keptHave = 0;
      if (cs.length === 0) {
        this.headerHave = 0;
        this.finishMessage(cs);
        return;
      }
    }
    this.current = cs;
    this.chunkLeft = Math.min(this.chunkSize, cs.remaining);
  }

  private finishMessage(cs: ChunkStream): void {
    const body = cs.type === 8 || cs.type === 9 ? cs.kept.subarray(0, cs.keptHave) : Buffer.from(cs.kept.subarray(0, cs.keptHave));
    if (cs.type === 1 && body.length >= 4) {
      const size = body.readUInt32BE(0) & 0x7fffffff;
      if (size < 1 || size > MAX_MESSAGE) return this.fail('bad chunk size');
      this.chunkSize = size;
    }
    if (cs.keep === 0 && cs.length > 0 && cs.type !== 8 && cs.type !== 9) return; // oversized, skipped
    this.onMessage({ type: cs.type, streamId: cs.streamId, timestamp: cs.timestamp, length: cs.length, body });
  }

  private fail(reason: string): void {
    this.error = reason;
  }
}
