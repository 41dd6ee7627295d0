import { Amf0Error } from './rtmp-error.js';

/**
 * AMF0 (Action Message Format 0), the encoding of RTMP commands and metadata. Decoding is bounded:
 * string lengths, entry counts and nesting depth are capped, and every length is checked against
 * the bytes actually present before anything is allocated. Errors are Amf0Error only.
 */
export type AmfValue = number | boolean | string | null | undefined | Date | AmfObject | AmfValue[];
export interface AmfObject {
  [key: string]: AmfValue;
}

/** Marks an object to be encoded as an ECMA array (onMetaData uses one) instead of an anonymous object. */
export class AmfEcmaArray {
  constructor(readonly entries: AmfObject) {}
}

export const enum Amf0Marker {
  Number = 0x00,
  Boolean = 0x01,
  String = 0x02,
  Object = 0x03,
  Null = 0x05,
  Undefined = 0x06,
  Reference = 0x07,
  EcmaArray = 0x08,
  ObjectEnd = 0x09,
  StrictArray = 0x0a,
  Date = 0x0b,
  LongString = 0x0c,
  Unsupported = 0x0d,
  XmlDocument = 0x0f,
  TypedObject = 0x10,
}

export interface Amf0Limits {
  /** Longest string (short or long form), in bytes. */
  maxStringBytes: number;
  /** Most entries in one object or array. */
  maxEntries: number;
  /** Most values in one message, all levels together. */
  maxValues: number;
  maxDepth: number;
}

export const DEFAULT_AMF0_LIMITS: Amf0Limits = {
  maxStringBytes: 1024 * 1024,
  maxEntries: 4096,
  maxValues: 65536,
  maxDepth: 16,
};

/** Sets a property even when the key is "__proto__", so peer data can never replace a prototype. */
function setOwn(obj: AmfObject, key: string, value: AmfValue): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

export class Amf0Decoder {
  pos: number;
  private values = 0;

  constructor(
    private readonly buf: Buffer,
    offset = 0,
    private readonly limits: Amf0Limits = DEFAULT_AMF0_LIMITS,
  ) {
    this.pos = offset;
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  private need(n: number): void {
    if (n < 0 || this.pos + n > this.buf.length) throw new Amf0Error(`AMF0 value truncated at ${this.pos}`);
  }

  private u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  private u16(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  private u32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  private utf8(len: number): string {
    if (len > this.limits.maxStringBytes) throw new Amf0Error(`AMF0 string of ${len} bytes exceeds the cap`);
    this.need(len);
    const s = this.buf.toString('utf8', this.pos, this.pos + len);
    this.pos += len;
    return s;
  }

  /** A short string without its marker (object keys, typed-object class names). */
  private shortString(): string {
    return this.utf8(this.u16());
  }

  /** Reads one value. */
  read(depth = 0): AmfValue {
    if (++this.values > this.limits.maxValues) throw new Amf0Error('too many AMF0 values');
    if (depth > this.limits.maxDepth) throw new Amf0Error('AMF0 nesting too deep');
    const marker = this.u8();
    switch (marker) {
      case Amf0Marker.Number: {
        this.need(8);
        const v = this.buf.readDoubleBE(this.pos);
        this.pos += 8;
        return v;
      }
      case Amf0Marker.Boolean:
        return this.u8() !== 0;
      case Amf0Marker.String:
        return this.shortString();
      case Amf0Marker.LongString:
      case Amf0Marker.XmlDocument:
        return this.utf8(this.u32());
      case Amf0Marker.Null:
        return null;
      case Amf0Marker.Undefined:
      case Amf0Marker.Unsupported:
        return undefined;
      case Amf0Marker.Object:
        return this.properties(depth);
      case Amf0Marker.TypedObject:
        this.shortString(); // class name: not needed
        return this.properties(depth);
      case Amf0Marker.EcmaArray:
        this.u32(); // the count is only a hint (and is often wrong); the object-end marker ends it
        return this.properties(depth, true);
      case Amf0Marker.StrictArray: {
        const count = this.u32();
        // Every element takes at least one byte: a count beyond the bytes left is a lie.
        if (count > this.limits.maxEntries || count > this.remaining) throw new Amf0Error(`AMF0 strict array of ${count} entries`);
        const arr: AmfValue[] = [];
        for (let i = 0; i < count; i++) arr.push(this.read(depth + 1));
        return arr;
      }
      case Amf0Marker.Date: {
        this.need(10);
        const ms = this.buf.readDoubleBE(this.pos);
        this.pos += 10; // 8-byte double + 2-byte time zone (ignored, as the spec says)
        return new Date(ms);
      }
      default:
        throw new Amf0Error(`unknown AMF0 type marker 0x${marker.toString(16)}`);
    }
  }

  private properties(depth: number, lenientEnd = false): AmfObject {
    const obj: AmfObject = {};
    for (let n = 0; ; n++) {
      if (n > this.limits.maxEntries) throw new Amf0Error('AMF0 object has too many entries');
      // Some encoders end an ECMA array at the end of the message without the end marker.
      if (lenientEnd && this.remaining === 0) return obj;
      const key = this.shortString();
      if (key === '') {
        // Empty key + object-end marker closes the object.
        if (lenientEnd && this.remaining === 0) return obj;
        const m = this.u8();
        if (m === Amf0Marker.ObjectEnd) return obj;
        this.pos--;
      }
      setOwn(obj, key, this.read(depth + 1));
    }
  }
}

/** Decodes every value in `buf` from `offset` to the end. */
export function decodeAmf0(buf: Buffer, offset = 0, limits?: Amf0Limits): AmfValue[] {
  const dec = new Amf0Decoder(buf, offset, limits);
  const out: AmfValue[] = [];
  while (dec.remaining > 0) out.push(dec.read());
  return out;
}

// ---- encoding (our own replies and metadata: trusted values) ----

type Encodable = AmfValue | AmfEcmaArray;

function encodeInto(parts: Buffer[], v: Encodable): void {
  if (v === null) parts.push(Buffer.from([Amf0Marker.Null]));
  else if (v === undefined) parts.push(Buffer.from([Amf0Marker.Undefined]));
  else if (typeof v === 'number') {
    const b = Buffer.allocUnsafe(9);
    b[0] = Amf0Marker.Number;
    b.writeDoubleBE(v, 1);
    parts.push(b);
  } else if (typeof v === 'boolean') parts.push(Buffer.from([Amf0Marker.Boolean, v ? 1 : 0]));
  else if (typeof v === 'string') {
    const s = Buffer.from(v, 'utf8');
    if (s.length > 0xffff) {
      const h = Buffer.allocUnsafe(5);
      h[0] = Amf0Marker.LongString;
      h.writeUInt32BE(s.length, 1);
      parts.push(h, s);
    } else {
      parts.push(Buffer.from([Amf0Marker.String, s.length >> 8, s.length & 0xff]), s);
    }
  } else if (v instanceof Date) {
    const b = Buffer.alloc(11);
    b[0] = Amf0Marker.Date;
    b.writeDoubleBE(v.getTime(), 1);
    parts.push(b);
  } else if (Array.isArray(v)) {
    const h = Buffer.allocUnsafe(5);
    h[0] = Amf0Marker.StrictArray;
    h.writeUInt32BE(v.length, 1);
    parts.push(h);
    for (const item of v) encodeInto(parts, item);
  } else if (v instanceof AmfEcmaArray) {
    const entries = Object.entries(v.entries);
    const h = Buffer.allocUnsafe(5);
    h[0] = Amf0Marker.EcmaArray;
    h.writeUInt32BE(entries.length, 1);
    parts.push(h);
    encodeProps(parts, entries);
  } else {
    parts.push(Buffer.from([Amf0Marker.Object]));
    encodeProps(parts, Object.entries(v));
  }
}

function encodeProps(parts: Buffer[], entries: [string, AmfValue][]): void {
  for (const [k, val] of entries) {
    const key = Buffer.from(k, 'utf8');
    parts.push(Buffer.from([key.length >> 8, key.length & 0xff]), key);
    encodeInto(parts, val);
  }
  parts.push(Buffer.from([0, 0, Amf0Marker.ObjectEnd]));
}

/** Encodes values one after another (a command: name, transaction id, command object, args...). */
export function encodeAmf0(...values: Encodable[]): Buffer {
  const parts: Buffer[] = [];
  for (const v of values) encodeInto(parts, v);
  return Buffer.concat(parts);
}
