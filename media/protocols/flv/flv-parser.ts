import { FLV_TAG_HEADER_SIZE } from './flv-tag.js';

/** The FLV byte stream is malformed (bad signature, oversized tag, wrong PreviousTagSize). */
export class FlvParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FlvParseError';
  }
}

export interface FlvHeaderInfo {
  version: number;
  hasAudio: boolean;
  hasVideo: boolean;
}

export interface FlvTag {
  type: number;
  /** Milliseconds (24-bit + 8-bit extension). */
  timestamp: number;
  /** A view into the parser's input; copy it if you keep it past the next push(). */
  body: Buffer;
}

export interface FlvParserOptions {
  /** Largest tag body accepted (default 8 MiB): a larger declared size is an error, never an allocation. */
  maxTagSize?: number;
  /** Check each PreviousTagSize against the tag it follows (default true). */
  checkPreviousTagSize?: boolean;
}

/**
 * Streaming FLV parser: push() byte chunks as they arrive (any split), get back whole tags.
 * Used by tests and the stress tool to read HTTP-FLV/WS-FLV output. Throws FlvParseError only.
 */
export class FlvParser {
  header: FlvHeaderInfo | undefined;
  /** Tags and bytes seen so far. */
  tagCount = 0;
  bytes = 0;
  private pending: Buffer = Buffer.alloc(0);
  /** Chunks held back while a large tag arrives, so a tag split in many chunks is joined once. */
  private held: Buffer[] = [];
  private heldBytes = 0;
  private need = 0;
  private readonly maxTagSize: number;
  private readonly checkPrev: boolean;

  constructor(options: FlvParserOptions = {}) {
    this.maxTagSize = options.maxTagSize ?? 8 * 1024 * 1024;
    this.checkPrev = options.checkPreviousTagSize ?? true;
  }

  push(chunk: Buffer): FlvTag[] {
    this.bytes += chunk.length;
    if (this.need > 0) {
      this.held.push(chunk);
      this.heldBytes += chunk.length;
      if (this.heldBytes < this.need) return [];
      chunk = Buffer.concat(this.held, this.heldBytes);
      this.held = [];
      this.heldBytes = 0;
      this.need = 0;
    }
    const buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const tags: FlvTag[] = [];
    let pos = 0;
    if (!this.header) {
      if (buf.length < 13) {
        this.pending = Buffer.from(buf);
        return tags;
      }
      if (buf[0] !== 0x46 || buf[1] !== 0x4c || buf[2] !== 0x56) throw new FlvParseError('not an FLV stream (bad signature)');
      const headerSize = buf.readUInt32BE(5);
      if (headerSize < 9 || headerSize > 64) throw new FlvParseError(`bad FLV header size ${headerSize}`);
      if (buf.length < headerSize + 4) {
        this.pending = Buffer.from(buf);
        return tags;
      }
      this.header = { version: buf[3]!, hasAudio: (buf[4]! & 4) !== 0, hasVideo: (buf[4]! & 1) !== 0 };
      pos = headerSize + 4; // PreviousTagSize0
    }
    while (buf.length - pos >= FLV_TAG_HEADER_SIZE) {
      const size = buf.readUIntBE(pos + 1, 3);
      if (size > this.maxTagSize) throw new FlvParseError(`FLV tag of ${size} bytes exceeds the cap`);
      const total = FLV_TAG_HEADER_SIZE + size + 4;
      if (buf.length - pos < total) {
        this.need = total - (buf.length - pos);
        break;
      }
      const type = buf[pos]! & 0x1f;
      const timestamp = (buf.readUIntBE(pos + 4, 3) | (buf[pos + 7]! << 24)) >>> 0;
      const prev = buf.readUInt32BE(pos + FLV_TAG_HEADER_SIZE + size);
      if (this.checkPrev && prev !== FLV_TAG_HEADER_SIZE + size) {
        throw new FlvParseError(`PreviousTagSize ${prev} does not match tag size ${FLV_TAG_HEADER_SIZE + size}`);
      }
      tags.push({ type, timestamp, body: buf.subarray(pos + FLV_TAG_HEADER_SIZE, pos + FLV_TAG_HEADER_SIZE + size) });
      this.tagCount++;
      pos += total;
    }
    // Keep only the unparsed tail; copy it so the caller's chunk can be reused.
    this.pending = pos < buf.length ? Buffer.from(buf.subarray(pos)) : Buffer.alloc(0);
    return tags;
  }

  /** Bytes buffered waiting for the rest of a tag. */
  get pendingBytes(): number {
    return this.pending.length + this.heldBytes;
  }
}
