import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sendTimeAt } from './send-time.js';

describe('bench send time read from a frame\'s bytes', () => {
  it('gives the same double as Number() on the text, for the times the bench posts', () => {
    const base = 1_764_350_000_000;
    for (let i = 0; i < 20_000; i++) {
      const text = (base + i * 7919.3 + Math.random()).toFixed(1);
      const buf = Buffer.from(`x"text":"t:${text}","ts":1}`, 'latin1');
      assert.equal(sendTimeAt(buf, 11), Number(text), text);
    }
    assert.equal(sendTimeAt(Buffer.from('12"'), 0), 12);
    assert.equal(sendTimeAt(Buffer.from('0.25"'), 0), 0.25);
  });

  it('refuses what is not digits[.digits] closed by a quote', () => {
    for (const bad of ['"', 'abc"', '12', '12.', '12."', '.5"', '1e3"', '12x"', '1.2.3"', '1234567890123456"']) {
      assert.ok(Number.isNaN(sendTimeAt(Buffer.from(bad), 0)), bad);
    }
  });
});
