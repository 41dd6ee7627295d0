/**
 * The send time a bench chat message carries in its text (`"text":"t:<epoch ms>"`: bench/chat.ts
 * posts `t:${ms.toFixed(1)}`), read straight from a frame's bytes. The reading process does this for
 * every delivery (100,000 per burst at 5,000 sockets): no string per delivery (garbage for the
 * clients' scavenger) and no Buffer#toString call, whose first use with these arguments, on the
 * burst's first message, deoptimised it (docs/benchmarks.md, "Live chat").
 */
export const SEND_TIME_NEEDLE = Buffer.from('"text":"t:', 'latin1');

/**
 * The decimal number (`digits` or `digits.digits`) at buf[from..) closed by a `"`, or NaN. The value
 * is the integer of all its digits divided by a power of ten: both exact, so the one rounding of the
 * division gives the same double as Number() on the text (the trace matches messages by that value).
 */
export function sendTimeAt(buf: Uint8Array, from: number): number {
  let mantissa = 0;
  let digits = 0;
  let scale = 1;
  let i = from;
  let c = buf[i];
  for (; c !== undefined && c >= 0x30 && c <= 0x39; c = buf[++i]) {
    mantissa = mantissa * 10 + (c - 0x30);
    digits++;
  }
  if (digits === 0) return NaN;
  if (c === 0x2e) {
    c = buf[++i];
    const intDigits = digits;
    for (; c !== undefined && c >= 0x30 && c <= 0x39; c = buf[++i]) {
      mantissa = mantissa * 10 + (c - 0x30);
      digits++;
      scale *= 10;
    }
    if (digits === intDigits) return NaN;
  }
  if (c !== 0x22 || digits > 15) return NaN;
  return scale === 1 ? mantissa : mantissa / scale;
}
