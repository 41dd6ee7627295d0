/** Malformed codec configuration (SPS, AudioSpecificConfig...). Only informational: never fatal to a stream. */
export class CodecParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CodecParseError';
  }
}

/** Removes H.264/HEVC emulation-prevention bytes (00 00 03 -> 00 00). */
export function unescapeRbsp(nal: Buffer): Buffer {
  const out = Buffer.allocUnsafe(nal.length);
  let n = 0;
  let zeros = 0;
  for (let i = 0; i < nal.length; i++) {
    const b = nal[i]!;
    if (zeros >= 2 && b === 3) {
      zeros = 0;
      continue;
    }
    zeros = b === 0 ? zeros + 1 : 0;
    out[n++] = b;
  }
  return out.subarray(0, n);
}

/** MSB-first bit reader with exp-Golomb codes; throws CodecParseError past the end. */
export class BitReader {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}

  bit(): number {
    if (this.pos >= this.buf.length * 8) throw new CodecParseError('bitstream truncated');
    const v = (this.buf[this.pos >> 3]! >> (7 - (this.pos & 7))) & 1;
    this.pos++;
    return v;
  }

  bits(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 2 + this.bit();
    return v;
  }

  skip(n: number): void {
    if (this.pos + n > this.buf.length * 8) throw new CodecParseError('bitstream truncated');
    this.pos += n;
  }

  /** Unsigned exp-Golomb. */
  ue(): number {
    let zeros = 0;
    while (this.bit() === 0) {
      if (++zeros > 31) throw new CodecParseError('exp-Golomb code too long');
    }
    return zeros === 0 ? 0 : 2 ** zeros - 1 + this.bits(zeros);
  }

  /** Signed exp-Golomb. */
  se(): number {
    const k = this.ue();
    return k & 1 ? (k + 1) / 2 : -(k / 2);
  }
}
