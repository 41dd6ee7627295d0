/**
 * Malformed RTMP inputs for the fuzz test: garbage handshakes, hostile chunk headers and broken
 * AMF0 commands, including the three single packets that kill node-media-server 4.4.3 (connect
 * without tcUrl, an AMF0 value with an unknown type marker, publish with a numeric stream name).
 * Deterministic: case i of a seed is always the same bytes.
 */
import { encodeAmf0 } from '../../media/protocols/rtmp/amf0.js';
import { serializeMessage } from '../../media/protocols/rtmp/chunk-writer.js';

export interface FuzzCase {
  name: string;
  /** Do the RTMP handshake first (digest or plain), so the bytes reach the chunk/AMF layers. */
  handshake: 'none' | 'plain' | 'digest';
  /** Written one after another (separate writes, so the server sees several reads). */
  writes: Buffer[];
}

/** xorshift32: small, seedable, good enough to vary bytes. */
export function makeRng(seed: number) {
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
  return {
    int: (n: number) => next() % n,
    bytes: (n: number) => {
      const b = Buffer.allocUnsafe(n);
      for (let i = 0; i < n; i++) b[i] = next() & 0xff;
      return b;
    },
    pick: <T>(items: readonly T[]): T => items[next() % items.length]!,
  };
}
type Rng = ReturnType<typeof makeRng>;

const cmd = (payload: Buffer, streamId = 0) => serializeMessage({ csid: 3, typeId: 20, streamId, timestamp: 0, payload }, 128);
const goodConnect = () => cmd(encodeAmf0('connect', 1, { app: 'live', tcUrl: 'rtmp://127.0.0.1/live', flashVer: 'FMLE/3.0' }));

/** The three inputs that each kill node-media-server 4.4.3, and a few relatives. */
const KILLERS: (() => FuzzCase)[] = [
  () => ({ name: 'connect without tcUrl', handshake: 'plain', writes: [cmd(encodeAmf0('connect', 1, { app: 'live' }))] }),
  () => ({ name: 'connect with no command object', handshake: 'plain', writes: [cmd(encodeAmf0('connect', 1))] }),
  () => ({
    name: 'AMF0 unknown type marker 0x0F',
    handshake: 'plain',
    writes: [cmd(Buffer.concat([encodeAmf0('connect', 1), Buffer.from([0x0f, 0x41, 0x41, 0x41, 0x41])]))],
  }),
  () => ({
    name: 'AMF0 unknown marker inside an object',
    handshake: 'plain',
    writes: [cmd(Buffer.concat([encodeAmf0('connect', 1).subarray(0), Buffer.from([0x03, 0x00, 0x03, 0x61, 0x70, 0x70, 0x0f, 0xff, 0x00, 0x00, 0x09])]))],
  }),
  () => ({
    name: 'publish with a numeric stream name',
    handshake: 'plain',
    writes: [goodConnect(), cmd(encodeAmf0('createStream', 2, null)), cmd(encodeAmf0('publish', 3, null, 12345, 'live'), 1)],
  }),
  () => ({
    name: 'play with a numeric stream name',
    handshake: 'plain',
    writes: [goodConnect(), cmd(encodeAmf0('createStream', 2, null)), cmd(encodeAmf0('play', 3, null, 4242), 1)],
  }),
  () => ({ name: 'publish before connect', handshake: 'plain', writes: [cmd(encodeAmf0('publish', 3, null, 'sk_fuzz', 'live'), 1)] }),
];

function amfBomb(rng: Rng): Buffer {
  switch (rng.int(6)) {
    case 0: // deep nesting: objects inside objects
      return Buffer.concat([encodeAmf0('connect', 1), Buffer.alloc(20_000, 0x03).fill(Buffer.from([0x03, 0x00, 0x01, 0x61]))]);
    case 1: // long string claiming 4 GiB
      return Buffer.concat([encodeAmf0('connect', 1), Buffer.from([0x0c, 0xff, 0xff, 0xff, 0xff, 0x41])]);
    case 2: // strict array claiming 4 billion items
      return Buffer.concat([encodeAmf0('connect', 1), Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x00])]);
    case 3: // ECMA array with a huge count and truncated body
      return Buffer.concat([encodeAmf0('connect', 1), Buffer.from([0x08, 0x7f, 0xff, 0xff, 0xff, 0x00, 0x05])]);
    case 4: // truncated number / string
      return Buffer.concat([encodeAmf0('connect'), Buffer.from([0x00, 0x3f])]);
    default: // random marker soup after a valid name
      return Buffer.concat([encodeAmf0(rng.pick(['connect', 'createStream', 'publish', 'play', 'FCPublish', 'deleteStream', 'zzz'])), rng.bytes(1 + rng.int(200))]);
  }
}

function hostileChunks(rng: Rng): Buffer[] {
  const csid = rng.pick([0, 1, 2, 3, 63, 64, 319, 320, 65599]);
  const out: Buffer[] = [];
  switch (rng.int(7)) {
    case 0: { // type-0 header declaring a 16 MiB message, then nothing
      const b = Buffer.from([0x03, 0, 0, 0, 0xff, 0xff, 0xff, 0x14, 0, 0, 0, 0]);
      out.push(b);
      break;
    }
    case 1: // set chunk size to 0, to 2^31-1, then a message
      out.push(serializeMessage({ csid: 2, typeId: 1, streamId: 0, timestamp: 0, payload: Buffer.from([0, 0, 0, rng.pick([0, 1])]) }, 128));
      out.push(serializeMessage({ csid: 2, typeId: 1, streamId: 0, timestamp: 0, payload: Buffer.from([0x7f, 0xff, 0xff, 0xff]) }, 128));
      out.push(goodConnect());
      break;
    case 2: // continuation chunks (fmt 1..3) with no previous header on that chunk stream
      out.push(Buffer.concat([Buffer.from([(rng.int(3) + 1) << 6 | (csid & 0x3f)]), rng.bytes(rng.int(300))]));
      break;
    case 3: // extended timestamp marker with the timestamp missing
      out.push(Buffer.from([0x04, 0xff, 0xff, 0xff, 0, 0, 10, 9, 1, 0, 0, 0]));
      break;
    case 4: // abort of an unknown stream, ack window 0, user control garbage
      out.push(serializeMessage({ csid: 2, typeId: 2, streamId: 0, timestamp: 0, payload: Buffer.from([0xff, 0xff, 0xff, 0xff]) }, 128));
      out.push(serializeMessage({ csid: 2, typeId: 5, streamId: 0, timestamp: 0, payload: Buffer.from([0, 0, 0, 0]) }, 128));
      out.push(serializeMessage({ csid: 2, typeId: 4, streamId: 0, timestamp: 0, payload: rng.bytes(rng.int(3)) }, 128));
      break;
    case 5: // media messages on stream 0 / unknown stream before publish, odd type ids
      out.push(serializeMessage({ csid: 6, typeId: rng.pick([8, 9, 18, 15, 17, 22, 0, 255]), streamId: rng.int(5), timestamp: rng.int(0xffffffff), payload: rng.bytes(rng.int(500)) }, 128));
      break;
    default: // random bytes after a valid handshake
      out.push(rng.bytes(1 + rng.int(4000)));
  }
  return out;
}

/** Case number `i` of the sequence for `seed`. */
export function fuzzCase(i: number, seed: number): FuzzCase {
  const rng = makeRng(seed * 1_000_003 + i);
  if (i < KILLERS.length * 3) return KILLERS[i % KILLERS.length]!();
  switch (rng.int(5)) {
    case 0: {
      const n = rng.pick([0, 1, 2, 100, 1536, 1537, 3073, 4000]);
      const b = rng.bytes(n);
      if (n > 0 && rng.int(2)) b[0] = 3; // right version, garbage C1
      return { name: 'handshake garbage', handshake: 'none', writes: [b] };
    }
    case 1:
      return { name: 'hostile chunk headers', handshake: rng.pick(['plain', 'digest'] as const), writes: hostileChunks(rng) };
    case 2:
      return { name: 'AMF0 bombs', handshake: 'plain', writes: [cmd(amfBomb(rng))] };
    case 3: {
      // A valid prefix, then bit flips in an otherwise fine command sequence.
      const seq = Buffer.concat([goodConnect(), cmd(encodeAmf0('createStream', 2, null)), cmd(encodeAmf0('publish', 3, null, 'sk_fuzz', 'live'), 1)]);
      for (let k = 0; k < 1 + rng.int(8); k++) seq[rng.int(seq.length)] ^= 1 << rng.int(8);
      return { name: 'bit-flipped commands', handshake: 'plain', writes: [seq] };
    }
    default:
      return KILLERS[rng.int(KILLERS.length)]!();
  }
}
