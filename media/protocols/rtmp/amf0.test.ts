import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { decodeAmf0, encodeAmf0, AmfEcmaArray, Amf0Decoder } from './amf0.js';
import { Amf0Error, RtmpProtocolError } from './rtmp-error.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('amf0', () => {
  const table: [string, Buffer, unknown][] = [
    ['number', hex('00 3ff0000000000000'), 1],
    ['boolean true', hex('01 01'), true],
    ['boolean false', hex('01 00'), false],
    ['string', hex('02 0003 616263'), 'abc'],
    ['long string', hex('0c 00000002 6869'), 'hi'],
    ['null', hex('05'), null],
    ['undefined', hex('06'), undefined],
    ['unsupported as undefined', hex('0d'), undefined],
    ['object', hex('03 0001 61 00 4000000000000000 0000 09'), { a: 2 }],
    ['ecma array', hex('08 00000001 0001 62 01 01 0000 09'), { b: true }],
    ['ecma array without end marker', hex('08 00000001 0001 62 01 01'), { b: true }],
    ['strict array', hex('0a 00000002 05 02 0001 78'), [null, 'x']],
    ['typed object', hex('10 0001 54 0001 61 05 0000 09'), { a: null }],
    ['date', hex('0b 0000000000000000 0000'), new Date(0)],
  ];
  for (const [name, bytes, value] of table) {
    it(`decodes ${name}`, () => assert.deepEqual(decodeAmf0(bytes), [value]));
  }

  it('round-trips what it encodes', () => {
    const values = [1.5, true, 'x'.repeat(70_000), null, undefined, { a: 'b', n: { m: [1, 2] } }, new Date(1000)];
    assert.deepEqual(decodeAmf0(encodeAmf0(...values)), values);
    assert.deepEqual(decodeAmf0(encodeAmf0(new AmfEcmaArray({ width: 640 }))), [{ width: 640 }]);
  });

  const bad: [string, Buffer][] = [
    ['unknown type marker (NMS killer)', hex('02 0007 636f6e6e656374 00 3ff0000000000000 11')],
    ['reference marker', hex('07 0001')],
    ['truncated number', hex('00 3ff0')],
    ['string longer than the buffer', hex('02 ffff 61')],
    ['long string over the cap', hex('0c 7fffffff')],
    ['strict array count beyond the bytes', hex('0a 7fffffff 05')],
    ['object without end', hex('03 0001 61 05')],
  ];
  for (const [name, bytes] of bad) {
    it(`rejects ${name} with Amf0Error`, () => assert.throws(() => decodeAmf0(bytes), Amf0Error));
  }

  it('caps nesting depth', () => {
    const deep = Buffer.concat([Buffer.alloc(100, 0x0a).map((_, i) => (i % 5 === 0 ? 0x0a : i % 5 === 4 ? 1 : 0)), Buffer.from([5])]);
    assert.throws(() => decodeAmf0(deep), Amf0Error);
  });

  it('does not let a "__proto__" key replace the prototype', () => {
    const obj = decodeAmf0(hex('03 0009 5f5f70726f746f5f5f 03 0001 78 01 01 0000 09 0000 09'))[0] as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(obj), Object.prototype);
    assert.deepEqual(Object.getOwnPropertyDescriptor(obj, '__proto__')?.value, { x: true });
  });

  it('never throws anything but Amf0Error on random bytes', () => {
    for (let i = 0; i < 5000; i++) {
      const junk = randomBytes(1 + (i % 64));
      try {
        const d = new Amf0Decoder(junk);
        while (d.remaining > 0) d.read();
      } catch (err) {
        assert.ok(err instanceof Amf0Error && err instanceof RtmpProtocolError, String(err));
      }
    }
  });
});
