/**
 * Minimal AMF0 for the stress tool's RTMP client (commands only: connect, createStream, play,
 * publish and their replies). Decoding is capped in depth, count and length: a reply from the
 * server under test is input like any other.
 * TODO(stress): switch to media/protocols/rtmp/amf0.ts once the engine's codec exists.
 */

export type Amf0Value = number | boolean | string | null | undefined | Amf0Object | Amf0Value[] | Date;
export interface Amf0Object {
  [key: string]: Amf0Value;
}

const MAX_DEPTH = 8;
const MAX_ITEMS = 1024;

export class Amf0Error extends Error {
  override name = 'Amf0Error';
}

export function encodeAmf0(values: Amf0Value[]): Buffer {
  const parts: Buffer[] = [];
  for (const v of values) encodeValue(v, parts, 0);
  return Buffer.concat(parts);
}

function encodeString(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  if (b.length > 0xffff) throw new Amf0Error('string too long for AMF0 short string');
  const out = Buffer.alloc(2 + b.length);
  out.writeUInt16BE(b.length, 0);
  b.copy(out, 2);
  return out;
}

function encodeValue(v: Amf0Value, parts: Buffer[], depth: number): void {
  if (depth > MAX_DEPTH) throw new Amf0Error('too deep');
  if (typeof v === 'number') {
    const b = Buffer.alloc(9);
    b[0] = 0x00;
    b.writeDoubleBE(v, 1);
    parts.push(b);
  } else if (typeof v === 'boolean') {
    parts.push(Buffer.from([0x01, v ? 1 : 0]));
  } else if (typeof v === 'string') {
    parts.push(Buffer.from([0x02]), encodeString(v));
  } else if (v === null) {
    parts.push(Buffer.from([0x05]));
  } else if (v === undefined) {
    parts.push(Buffer.from([0x06]));
  } else if (Array.isArray(v)) {
    const head = Buffer.alloc(5);
    head[0] = 0x0a;
    head.writeUInt32BE(v.length, 1);
    parts.push(head);
    for (const item of v) encodeValue(item, parts, depth + 1);
  } else if (v instanceof Date) {
    const b = Buffer.alloc(11);
    b[0] = 0x0b;
    b.writeDoubleBE(v.getTime(), 1);
    parts.push(b);
  } else {
    parts.push(Buffer.from([0x03]));
    for (const [k, item] of Object.entries(v)) {
      parts.push(encodeString(k));
      encodeValue(item, parts, depth + 1);
    }
    parts.push(Buffer.from([0x00, 0x00, 0x09]));
  }
}

export function decodeAmf0(buf: Buffer): Amf0Value[] {
  const r = { buf, pos: 0 };
  const out: Amf0Value[] = [];
  while (r.pos < buf.length && out.length < MAX_ITEMS) out.push(decodeValue(r, 0));
  return out;
}

interface Cursor {
  buf: Buffer;
  pos: number;
}

function need(r: Cursor, n: number): void {
  if (r.pos + n > r.buf.length) throw new Amf0Error('truncated AMF0');
}

function readShortString(r: Cursor): string {
  need(r, 2);
  const len = r.buf.readUInt16BE(r.pos);
  r.pos += 2;
  need(r, len);
  const s = r.buf.toString('utf8', r.pos, r.pos + len);
  r.pos += len;
  return s;
}

function readProperties(r: Cursor, depth: number): Amf0Object {
  const obj: Amf0Object = Object.create(null) as Amf0Object;
  for (let i = 0; i < MAX_ITEMS; i++) {
    const key = readShortString(r);
    need(r, 1);
    if (key === '' && r.buf[r.pos] === 0x09) {
      r.pos++;
      return obj;
    }
    obj[key] = decodeValue(r, depth + 1);
  }
  throw new Amf0Error('too many properties');
}

function decodeValue(r: Cursor, depth: number): Amf0Value {
  if (depth > MAX_DEPTH) throw new Amf0Error('too deep');
  need(r, 1);
  const marker = r.buf[r.pos++]!;
  switch (marker) {
    case 0x00: {
      need(r, 8);
      const v = r.buf.readDoubleBE(r.pos);
      r.pos += 8;
      return v;
    }
    case 0x01:
      need(r, 1);
      return r.buf[r.pos++] !== 0;
    case 0x02:
      return readShortString(r);
    case 0x03:
      return readProperties(r, depth);
    case 0x05:
      return null;
    case 0x06:
      return undefined;
    case 0x08:
      need(r, 4);
      r.pos += 4; // the count is a hint only; the list ends with the object-end marker
      return readProperties(r, depth);
    case 0x0a: {
      need(r, 4);
      const count = r.buf.readUInt32BE(r.pos);
      r.pos += 4;
      if (count > MAX_ITEMS) throw new Amf0Error('array too long');
      const arr: Amf0Value[] = [];
      for (let i = 0; i < count; i++) arr.push(decodeValue(r, depth + 1));
      return arr;
    }
    case 0x0b: {
      need(r, 10);
      const v = new Date(r.buf.readDoubleBE(r.pos));
      r.pos += 10;
      return v;
    }
    case 0x0c: {
      need(r, 4);
      const len = r.buf.readUInt32BE(r.pos);
      r.pos += 4;
      need(r, len);
      const s = r.buf.toString('utf8', r.pos, r.pos + len);
      r.pos += len;
      return s;
    }
    default:
      throw new Amf0Error(`unsupported AMF0 marker 0x${marker.toString(16)}`);
  }
}
