import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { addressKey, trustProxyFn } from './client-address.js';

describe('addressKey', () => {
  const cases: Array<[string | undefined, string]> = [
    ['203.0.113.7', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['2001:db8:1:2:aaaa:bbbb:cccc:dddd', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::1', '2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002:ffff::9', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    [undefined, 'unknown'],
  ];
  for (const [address, key] of cases) it(`${address} -> ${key}`, () => assert.equal(addressKey(address), key));
});

describe('trustProxyFn', () => {
  it('trusts nobody without a list, and the listed networks with one', () => {
    assert.equal(trustProxyFn([])('127.0.0.1'), false);
    const trust = trustProxyFn(['127.0.0.0/8', '10.0.0.0/8']);
    assert.equal(trust('127.0.0.1'), true);
    assert.equal(trust('::ffff:10.1.2.3'), true);
    assert.equal(trust('203.0.113.7'), false);
  });
});
