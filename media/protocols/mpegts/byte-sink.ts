/**
 * A growable byte buffer that is reused: the muxer appends into it, the owner takes the written
 * bytes and resets it. It only allocates when it has to grow (doubling), so a steady stream
 * writes without allocating per packet.
 */
export class ByteSink {
  buf: Buffer;
  length = 0;

  constructor(initialBytes = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  /** Makes room for `n` more bytes and returns the offset they start at (length moves past them). */
  reserve(n: number): number {
    const need = this.length + n;
    if (need > this.buf.length) {
      let size = this.buf.length * 2;
      while (size < need) size *= 2;
      const grown = Buffer.allocUnsafe(size);
      this.buf.copy(grown, 0, 0, this.length);
      this.buf = grown;
    }
    const at = this.length;
    this.length = need;
    return at;
  }

  /** Appends `src[start, end)`. */
  append(src: Uint8Array, start = 0, end = src.length): void {
    const at = this.reserve(end - start);
    this.buf.set(src.subarray(start, end), at);
  }

  /** The bytes written so far (a view: valid until the next write or reset). */
  view(): Buffer {
    return this.buf.subarray(0, this.length);
  }

  reset(): void {
    this.length = 0;
  }
}
