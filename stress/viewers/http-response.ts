/**
 * Just enough HTTP/1.1 response parsing for a streaming viewer on a raw socket: the status line and
 * headers (capped), then the body, de-chunked when Transfer-Encoding is chunked. Body slices are
 * handed on without copying.
 */

const MAX_HEADER = 16 * 1024;
const MAX_CHUNK_LINE = 256;

export type OnBody = (buf: Buffer, start: number, end: number) => void;

const enum Chunk {
  Size,
  Data,
  DataEnd,
  Done,
}

export class HttpResponseReader {
  status = 0;
  headersDone = false;
  error: string | undefined;
  private header = '';
  private chunked = false;
  private chunkState = Chunk.Size;
  private sizeLine = '';
  private dataLeft = 0;
  /** Bytes of the trailing CRLF after a chunk still to skip. */
  private crlfLeft = 0;

  constructor(private readonly onBody: OnBody) {}

  push(buf: Buffer, start = 0, end = buf.length): void {
    let pos = start;
    if (!this.headersDone) {
      // Headers are small and come once: a string scan is fine here.
      const text = buf.toString('latin1', pos, end);
      const before = this.header.length;
      this.header += text;
      const idx = this.header.indexOf('\r\n\r\n');
      if (idx < 0) {
        if (this.header.length > MAX_HEADER) this.error = 'http-header-too-large';
        return;
      }
      pos += idx + 4 - before;
      this.parseHeader(this.header.slice(0, idx));
      this.header = '';
      this.headersDone = true;
      if (this.error) return;
    }
    if (!this.chunked) {
      if (pos < end) this.onBody(buf, pos, end);
      return;
    }
    this.pushChunked(buf, pos, end);
  }

  private parseHeader(head: string): void {
    const lines = head.split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
    if (!m) {
      this.error = 'http-bad-status-line';
      return;
    }
    this.status = Number(m[1]);
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon < 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      if (name === 'transfer-encoding' && /chunked/i.test(line.slice(colon + 1))) this.chunked = true;
    }
  }

  private pushChunked(buf: Buffer, start: number, end: number): void {
    let pos = start;
    while (pos < end && this.error === undefined) {
      switch (this.chunkState) {
        case Chunk.Size: {
          const b = buf[pos++]!;
          if (b === 0x0a) {
            const hex = this.sizeLine.replace(/\r$/, '').split(';')[0]!.trim();
            this.sizeLine = '';
            if (!/^[0-9a-fA-F]{1,8}$/.test(hex)) {
              this.error = 'http-bad-chunk';
              return;
            }
            this.dataLeft = parseInt(hex, 16);
            this.chunkState = this.dataLeft === 0 ? Chunk.Done : Chunk.Data;
          } else {
            this.sizeLine += String.fromCharCode(b);
            if (this.sizeLine.length > MAX_CHUNK_LINE) this.error = 'http-bad-chunk';
          }
          break;
        }
        case Chunk.Data: {
          const n = Math.min(this.dataLeft, end - pos);
          this.onBody(buf, pos, pos + n);
          pos += n;
          this.dataLeft -= n;
          if (this.dataLeft === 0) {
            this.chunkState = Chunk.DataEnd;
            this.crlfLeft = 2;
          }
          break;
        }
        case Chunk.DataEnd: {
          const n = Math.min(this.crlfLeft, end - pos);
          pos += n;
          this.crlfLeft -= n;
          if (this.crlfLeft === 0) this.chunkState = Chunk.Size;
          break;
        }
        case Chunk.Done:
          return;
      }
    }
  }
}
