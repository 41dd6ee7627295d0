import type { ByteSink } from './byte-sink.js';
import { TS_PACKET_SIZE, TS_SYNC_BYTE } from './ts-constants.js';

/** One PES to packetize: its payload is `payload[0, payloadLength)`. Times in 90 kHz ticks (33-bit). */
export interface PesInput {
  pid: number;
  streamId: number;
  payload: Buffer;
  payloadLength: number;
  pts: number;
  /** Omitted (or equal to pts) writes PTS only. */
  dts?: number;
  /** A PCR (27 MHz base ticks of 90 kHz, extension 0) in the first packet's adaptation field. */
  pcr?: number;
  /** Sets random_access_indicator in the first packet (a keyframe, or any audio frame). */
  randomAccess: boolean;
}

/** Writes a 33-bit PTS or DTS (5 bytes, markers set) with the 4-bit `prefix` (2: PTS only, 3: PTS of a pair, 1: DTS). */
export function writeTimestamp(b: Buffer, at: number, prefix: number, ts: number): void {
  b[at] = (prefix << 4) | ((Math.floor(ts / 2 ** 30) & 0x07) << 1) | 1;
  b[at + 1] = (ts >>> 22) & 0xff;
  b[at + 2] = ((ts >>> 14) & 0xfe) | 1;
  b[at + 3] = (ts >>> 7) & 0xff;
  b[at + 4] = ((ts << 1) & 0xfe) | 1;
}

/** Writes a PCR (33-bit base, 6 reserved bits, 9-bit extension 0): 6 bytes. */
export function writePcr(b: Buffer, at: number, base: number): void {
  b[at] = Math.floor(base / 2 ** 25) & 0xff;
  b[at + 1] = (base >>> 17) & 0xff;
  b[at + 2] = (base >>> 9) & 0xff;
  b[at + 3] = (base >>> 1) & 0xff;
  b[at + 4] = ((base & 1) << 7) | 0x7e;
  b[at + 5] = 0;
}

/**
 * Cuts one PES into 188-byte TS packets appended to `out`: the PES header in the first packet
 * (with PUSI, and an adaptation field for the PCR / random access flag), the last packet padded
 * with adaptation-field stuffing. Returns the PID's next continuity counter.
 */
export function writePes(out: ByteSink, cc: number, pes: PesInput): number {
  const hasDts = pes.dts !== undefined && pes.dts !== pes.pts;
  const headerDataLength = hasDts ? 10 : 5;
  const headerLength = 9 + headerDataLength;
  const pesLength = 3 + headerDataLength + pes.payloadLength;
  let remaining = headerLength + pes.payloadLength;
  let src = 0; // offset in the payload
  let first = true;
  while (remaining > 0) {
    const at = out.reserve(TS_PACKET_SIZE);
    const b = out.buf;
    b[at] = TS_SYNC_BYTE;
    b[at + 1] = (first ? 0x40 : 0) | ((pes.pid >> 8) & 0x1f);
    b[at + 2] = pes.pid & 0xff;
    const flagged = first && (pes.pcr !== undefined || pes.randomAccess);
    // Adaptation field body: flags byte (+ PCR), then stuffing.
    let afBody = flagged ? 1 + (pes.pcr !== undefined ? 6 : 0) : 0;
    let hasAf = flagged;
    const room = TS_PACKET_SIZE - 4 - (hasAf ? 1 + afBody : 0);
    if (remaining < room) {
      const stuff = room - remaining;
      if (hasAf) afBody += stuff;
      else {
        hasAf = true;
        afBody = stuff - 1; // the length byte takes one
      }
    }
    b[at + 3] = (hasAf ? 0x30 : 0x10) | (cc & 0x0f);
    cc = (cc + 1) & 0x0f;
    let p = at + 4;
    if (hasAf) {
      b[p] = afBody;
      if (afBody > 0) {
        let flags = 0;
        let q = p + 2;
        if (flagged) {
          if (pes.randomAccess) flags |= 0x40;
          if (pes.pcr !== undefined) {
            flags |= 0x10;
            writePcr(b, q, pes.pcr);
            q += 6;
          }
        }
        b[p + 1] = flags;
        b.fill(0xff, q, p + 1 + afBody);
      }
      p += 1 + afBody;
    }
    if (first) {
      b[p] = 0; b[p + 1] = 0; b[p + 2] = 1; b[p + 3] = pes.streamId;
      const len = pesLength > 0xffff ? 0 : pesLength;
      b[p + 4] = len >> 8; b[p + 5] = len & 0xff;
      b[p + 6] = 0x80; // '10', not scrambled, no priority/alignment/copyright
      b[p + 7] = hasDts ? 0xc0 : 0x80;
      b[p + 8] = headerDataLength;
      writeTimestamp(b, p + 9, hasDts ? 3 : 2, pes.pts);
      if (hasDts) writeTimestamp(b, p + 14, 1, pes.dts!);
      p += headerLength;
      remaining -= headerLength;
      first = false;
    }
    const n = at + TS_PACKET_SIZE - p;
    pes.payload.copy(b, p, src, src + n);
    src += n;
    remaining -= n;
  }
  return cc;
}
