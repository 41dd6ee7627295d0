import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { jsonTooDeep, parseJsonBody, JsonTooDeepError, MAX_JSON_DEPTH } from './json-depth.js';

const b = (s: string) => Buffer.from(s, 'utf8');

describe('jsonTooDeep', () => {
  const cases: Array<[string, string, number, boolean]> = [
    ['flat object', '{"a":1,"b":"x"}', 1, false],
    ['exactly the bound', '[[[]]]', 3, false],
    ['one past the bound', '[[[[]]]]', 3, true],
    ['siblings do not add up', '[[],[],{},{"a":[]}]', 3, false],
    ['brackets inside strings do not count', '{"a":"[[[[[[{{{{"}', 1, false],
    ['escaped quotes keep the string open', '{"a":"\\"[[[[[[["}', 1, false],
    ['escaped backslash ends before the quote', '{"a":"\\\\","b":[[[]]]}', 4, false],
    ['and the brackets after it count', '{"a":"\\\\","b":[[[]]]}', 3, true],
    ['multi-byte text', '{"名前":"[[[[ 日本 ]]]]"}', 1, false],
  ];
  for (const [name, text, max, want] of cases) it(name, () => assert.equal(jsonTooDeep(b(text), max), want));

  it('refuses 120,000 levels at the default bound without recursing', () => {
    assert.equal(jsonTooDeep(b('['.repeat(120_000) + ']'.repeat(120_000))), true);
    assert.throws(() => parseJsonBody(b('{"a":'.repeat(120_000) + '1' + '}'.repeat(120_000))), JsonTooDeepError);
  });

  it('parses what is within the bound', () => {
    const ok = '['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH);
    assert.doesNotThrow(() => parseJsonBody(b(ok)));
    assert.throws(() => parseJsonBody(b('{"a":')), SyntaxError);
  });
});
