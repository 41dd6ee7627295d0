import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { RtmpProtocolError } from './rtmp-error.js';

/**
 * The RTMP handshake, both flavours:
 * - plain (spec): S1 is random, S2 echoes C1;
 * - digest ("complex", Flash Player / FMS): C1 hides an HMAC-SHA256 digest at an offset given by
 *   scheme 0 (offset bytes at 8..11) or scheme 1 (at 772..775). When C1 carries a valid digest we
 *   answer with an S1 carrying our own FMS digest and an S2 signed with a key derived from C1's
 *   digest, which is what Flash-era clients and some encoders verify.
 * Pure: bytes in, bytes out.
 */
export const RTMP_VERSION = 3;
export const HANDSHAKE_SIZE = 1536;

const KEY_TAIL = Buffer.from([
  0xf0, 0xee, 0xc2, 0x4a, 0x80, 0x68, 0xbe, 0xe8, 0x2e, 0x00, 0xd0, 0xd1, 0x02, 0x9e, 0x7e, 0x57,
  0x6e, 0xec, 0x5d, 0x2d, 0x29, 0x80, 0x6f, 0xab, 0x93, 0xb8, 0xe6, 0x36, 0xcf, 0xeb, 0x31, 0xae,
]);
const FP_KEY_TEXT = Buffer.from('Genuine Adobe Flash Player 001', 'ascii'); // 30 bytes
const FMS_KEY_TEXT = Buffer.from('Genuine Adobe Flash Media Server 001', 'ascii'); // 36 bytes
const FMS_KEY_FULL = Buffer.concat([FMS_KEY_TEXT, KEY_TAIL]);
const DIGEST_SIZE = 32;
/** Version field put into our S1 (any non-zero value tells clients we speak the digest form). */
const SERVER_VERSION = Buffer.from([0x04, 0x05, 0x00, 0x01]);

const hmac = (key: Buffer, ...data: Buffer[]): Buffer => {
  const h = createHmac('sha256', key);
  for (const d of data) h.update(d);
  return h.digest();
};

/** Where the digest sits in a 1536-byte C1/S1 for a scheme. */
export function digestOffset(block: Buffer, scheme: 0 | 1): number {
  const base = scheme === 0 ? 8 : 772;
  const sum = block[base]! + block[base + 1]! + block[base + 2]! + block[base + 3]!;
  return (sum % 728) + base + 4;
}

function digestAt(block: Buffer, offset: number, key: Buffer): Buffer {
  return hmac(key, block.subarray(0, offset), block.subarray(offset + DIGEST_SIZE));
}

export type ClientDigest = { scheme: 0 | 1; digest: Buffer };

/**
 * Finds a valid client digest in C1 (scheme 0 or 1), or undefined for a plain C1. A C1 whose version
 * field (bytes 4..7) is zero is plain by the spec, and a digest client always puts its version there
 * (Flash Player, ffmpeg), so such a C1 is answered plainly without the two HMACs over it (nginx-rtmp
 * decides the same way): the stress tool's viewers and other plain-handshake clients send zero there.
 */
export function findClientDigest(c1: Buffer): ClientDigest | undefined {
  if (c1.length !== HANDSHAKE_SIZE) return undefined;
  if (c1.readUInt32BE(4) === 0) return undefined;
  for (const scheme of [0, 1] as const) {
    const off = digestOffset(c1, scheme);
    const expected = digestAt(c1, off, FP_KEY_TEXT);
    const got = c1.subarray(off, off + DIGEST_SIZE);
    if (timingSafeEqual(expected, got)) return { scheme, digest: Buffer.from(got) };
  }
  return undefined;
}

/** Writes a digest into a 1536-byte block for the scheme, using `key`. */
export function signBlock(block: Buffer, scheme: 0 | 1, key: Buffer): Buffer {
  const off = digestOffset(block, scheme);
  digestAt(block, off, key).copy(block, off);
  return block;
}

/** Builds S0+S1+S2 for the C1 received (`client`: its digest, when the caller has looked for it already). */
export function buildServerHandshake(c1: Buffer, now = Date.now(), client: ClientDigest | undefined = findClientDigest(c1)): Buffer {
  const s1 = randomBytes(HANDSHAKE_SIZE);
  s1.writeUInt32BE((now / 1000) >>> 0, 0);
  let s2: Buffer;
  if (client) {
    SERVER_VERSION.copy(s1, 4);
    signBlock(s1, client.scheme, FMS_KEY_TEXT);
    s2 = randomBytes(HANDSHAKE_SIZE);
    const key = hmac(FMS_KEY_FULL, client.digest);
    hmac(key, s2.subarray(0, HANDSHAKE_SIZE - DIGEST_SIZE)).copy(s2, HANDSHAKE_SIZE - DIGEST_SIZE);
  } else {
    s1.writeUInt32BE(0, 4);
    s2 = Buffer.from(c1); // plain: echo C1
  }
  return Buffer.concat([Buffer.from([RTMP_VERSION]), s1, s2]);
}

export type HandshakeStep =
  | { done: false; reply?: Buffer }
  | { done: true; reply?: Buffer; /** Bytes after C2: the first chunks. */ rest: Buffer };

/**
 * Server side: feed bytes until done. Waits for C0+C1 (1537 bytes), replies S0+S1+S2, waits for C2
 * (1536 bytes, not checked: many clients send garbage there), then hands over the remaining bytes.
 */
export class ServerHandshake {
  private buf: Buffer = Buffer.alloc(0);
  private state: 'c0c1' | 'c2' | 'done' = 'c0c1';
  /** True when the client used the digest handshake. */
  digest = false;

  push(chunk: Buffer): HandshakeStep {
    if (this.state === 'done') throw new RtmpProtocolError('handshake already complete');
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    let reply: Buffer | undefined;
    if (this.state === 'c0c1') {
      if (this.buf.length >= 1 && this.buf[0] !== RTMP_VERSION) {
        throw new RtmpProtocolError(`unsupported RTMP version ${this.buf[0]}`);
      }
      if (this.buf.length < 1 + HANDSHAKE_SIZE) return { done: false };
      const c1 = this.buf.subarray(1, 1 + HANDSHAKE_SIZE);
      const client = findClientDigest(c1); // once: one HMAC-SHA256 over C1 per scheme tried
      this.digest = client !== undefined;
      reply = buildServerHandshake(c1, Date.now(), client);
      this.buf = this.buf.subarray(1 + HANDSHAKE_SIZE);
      this.state = 'c2';
    }
    if (this.buf.length < HANDSHAKE_SIZE) return { done: false, reply };
    this.state = 'done';
    const rest = this.buf.subarray(HANDSHAKE_SIZE);
    this.buf = Buffer.alloc(0);
    return { done: true, reply, rest };
  }
}

// ---- client side (tests, the stress tool) ----

/** C0+C1; with `digest` true, a Flash Player style C1 (scheme 0 by default). */
export function buildClientHello(digest = false, scheme: 0 | 1 = 0): Buffer {
  const c1 = randomBytes(HANDSHAKE_SIZE);
  c1.writeUInt32BE(0, 0);
  if (digest) {
    Buffer.from([0x80, 0x00, 0x07, 0x02]).copy(c1, 4);
    signBlock(c1, scheme, FP_KEY_TEXT);
  } else {
    c1.writeUInt32BE(0, 4);
  }
  return Buffer.concat([Buffer.from([RTMP_VERSION]), c1]);
}

/** Checks a server's digest S1 (FMS key) for the scheme; used by tests of the digest path. */
export function verifyServerS1(s1: Buffer, scheme: 0 | 1): boolean {
  const off = digestOffset(s1, scheme);
  return timingSafeEqual(digestAt(s1, off, FMS_KEY_TEXT), s1.subarray(off, off + DIGEST_SIZE));
}

/** Checks the S2 a digest server returns for our C1. */
export function verifyServerS2(s2: Buffer, c1: Buffer, scheme: 0 | 1): boolean {
  const off = digestOffset(c1, scheme);
  const key = hmac(FMS_KEY_FULL, c1.subarray(off, off + DIGEST_SIZE));
  const sig = hmac(key, s2.subarray(0, HANDSHAKE_SIZE - DIGEST_SIZE));
  return timingSafeEqual(sig, s2.subarray(HANDSHAKE_SIZE - DIGEST_SIZE));
}

/**
 * Client side: after sending buildClientHello(), feed the server's bytes; when S0+S1+S2 are in,
 * returns C2 (the echo of S1) and any bytes that followed.
 */
export class ClientHandshake {
  private buf: Buffer = Buffer.alloc(0);
  s1: Buffer | undefined;
  s2: Buffer | undefined;

  push(chunk: Buffer): { c2: Buffer; rest: Buffer } | undefined {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    if (this.buf[0] !== undefined && this.buf[0] !== RTMP_VERSION) throw new RtmpProtocolError('bad S0');
    if (this.buf.length < 1 + 2 * HANDSHAKE_SIZE) return undefined;
    this.s1 = Buffer.from(this.buf.subarray(1, 1 + HANDSHAKE_SIZE));
    this.s2 = Buffer.from(this.buf.subarray(1 + HANDSHAKE_SIZE, 1 + 2 * HANDSHAKE_SIZE));
    const rest = this.buf.subarray(1 + 2 * HANDSHAKE_SIZE);
    return { c2: this.s1, rest };
  }
}

