/**
 * Incremental FLV scanner for load-test viewers: it walks tag boundaries in a byte stream and reports
 * each tag's type, timestamp, size and the first few bytes of its body, without ever copying or keeping
 * the body. That is all a viewer needs for TTFF (first video keyframe) and the latency probe (an SEI
 * in the first NAL of a video frame), and it keeps the cost per byte close to zero so one core can
 * absorb thousands of streams.
 *
 * The chunks given to push() may be a reused buffer (net.Socket `onread`): nothing refers to them
 * after push() returns. The `head` passed to onTag is a scratch buffer valid only during the call.
 */

export interface FlvTag {
  type: number;
  timestamp: number;
  dataSize: number;
}

export type OnFlvTag = (tag: FlvTag, head: Buffer) => void;

/** Tags larger than this are treated as a corrupt stream (real video frames stay well under it). */
export const MAX_TAG_SIZE = 8 * 1024 * 1024;
export const DEFAULT_HEAD_BYTES = 48;

const enum State {
  FileHeader,
  TagHeader,
  TagHead,
  TagSkip,
  Failed,
}

export class FlvTagScanner {
  private state = State.FileHeader;
  /** FLV file header (9) + PreviousTagSize0 (4); the header length field is honoured below. */
  private readonly fileHeader = Buffer.alloc(13);
  private fileHeaderHave = 0;
  private extraHeaderSkip = 0;
  private readonly tagHeader = Buffer.alloc(11);
  private tagHeaderHave = 0;
  private readonly head: Buffer;
  private headHave = 0;
  private headWant = 0;
  /** Body bytes after the head, plus the 4-byte PreviousTagSize. */
  private skip = 0;
  private readonly tag: FlvTag = { type: 0, timestamp: 0, dataSize: 0 };
  /** Why the stream was rejected, once it was. */
  error: string | undefined;
  tags = 0;

  constructor(
    private readonly onTag: OnFlvTag,
    headBytes = DEFAULT_HEAD_BYTES,
    /** Start after the file header (for protocols that send bare tags). */
    bareTags = false,
  ) {
    this.head = Buffer.alloc(headBytes);
    if (bareTags) this.state = State.TagHeader;
  }

  get failed(): boolean {
    return this.state === State.Failed;
  }

  push(chunk: Buffer, start = 0, end = chunk.length): void {
    let pos = start;
    while (pos < end) {
      switch (this.state) {
        case State.FileHeader: {
          if (this.extraHeaderSkip > 0) {
            const n = Math.min(this.extraHeaderSkip, end - pos);
            this.extraHeaderSkip -= n;
            pos += n;
            if (this.extraHeaderSkip === 0) this.state = State.TagHeader;
            break;
          }
          const n = Math.min(13 - this.fileHeaderHave, end - pos);
          chunk.copy(this.fileHeader, this.fileHeaderHave, pos, pos + n);
          this.fileHeaderHave += n;
          pos += n;
          if (this.fileHeaderHave < 13) break;
          if (this.fileHeader[0] !== 0x46 || this.fileHeader[1] !== 0x4c || this.fileHeader[2] !== 0x56) {
            return this.fail('not an FLV stream');
          }
          const headerLength = this.fileHeader.readUInt32BE(5);
          if (headerLength < 9 || headerLength > 1024) return this.fail('bad FLV header length');
          this.extraHeaderSkip = headerLength - 9;
          if (this.extraHeaderSkip === 0) this.state = State.TagHeader;
          break;
        }
        case State.TagHeader: {
          const n = Math.min(11 - this.tagHeaderHave, end - pos);
          chunk.copy(this.tagHeader, this.tagHeaderHave, pos, pos + n);
          this.tagHeaderHave += n;
          pos += n;
          if (this.tagHeaderHave < 11) break;
          this.tagHeaderHave = 0;
          const h = this.tagHeader;
          const type = h[0]! & 0x1f;
          const dataSize = h.readUIntBE(1, 3);
          if (dataSize > MAX_TAG_SIZE) return this.fail('tag too large');
          if (type !== 8 && type !== 9 && type !== 18) return this.fail(`unknown tag type ${type}`);
          this.tag.type = type;
          this.tag.dataSize = dataSize;
          // 24-bit timestamp plus the extension byte as the high 8 bits.
          this.tag.timestamp = (h.readUIntBE(4, 3) | (h[7]! << 24)) >>> 0;
          this.headWant = Math.min(dataSize, this.head.length);
          this.headHave = 0;
          this.skip = dataSize - this.headWant + 4;
          this.state = State.TagHead;
          if (this.headWant === 0) this.emit();
          break;
        }
        case State.TagHead: {
          const n = Math.min(this.headWant - this.headHave, end - pos);
          chunk.copy(this.head, this.headHave, pos, pos + n);
          this.headHave += n;
          pos += n;
          if (this.headHave === this.headWant) this.emit();
          break;
        }
        case State.TagSkip: {
          const n = Math.min(this.skip, end - pos);
          this.skip -= n;
          pos += n;
          if (this.skip === 0) this.state = State.TagHeader;
          break;
        }
        case State.Failed:
          return;
      }
    }
  }

  private emit(): void {
    this.tags++;
    this.state = this.skip > 0 ? State.TagSkip : State.TagHeader;
    this.onTag(this.tag, this.head.subarray(0, this.headWant));
  }

  private fail(reason: string): void {
    this.state = State.Failed;
    this.error = reason;
  }
}
