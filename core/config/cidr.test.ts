import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AddressMatcher, normalizeAddress, parseAddressList } from './cidr.js';
import { SourceAddress } from '../callbacks/source-address.js';

describe('address lists', () => {
  const list = new AddressMatcher(parseAddressList('10.0.0.0/8, 192.168.1.5 ::1 fd00:1::/32'));
  const table: Array<[string, boolean]> = [
    ['10.1.2.3', true], ['11.0.0.1', false], ['192.168.1.5', true], ['192.168.1.6', false],
    ['::1', true], ['::2', false], ['fd00:1:ffff::9', true], ['fd00:2::1', false],
    ['::ffff:10.9.9.9', true], ['::ffff:11.0.0.1', false], ['[::1]', true], ['fe80::1%eth0', false], ['nonsense', false], ['', false],
  ];
  for (const [address, expected] of table) it(`${address || '(empty)'} -> ${expected}`, () => assert.equal(list.matches(address), expected));
  it('an empty list matches nothing', () => assert.equal(new AddressMatcher([]).matches('127.0.0.1'), false));
  it('names a bad entry', () => {
    assert.throws(() => parseAddressList('10.0.0.0/8, 10.0.0.0/33'), /10\.0\.0\.0\/33/);
    assert.throws(() => parseAddressList('example.com'), /example\.com/);
    assert.throws(() => parseAddressList('::1/129'), /::1\/129/);
  });
  it('normalizes mapped IPv4 and zones', () => {
    assert.deepEqual(normalizeAddress('::ffff:127.0.0.1'), { address: '127.0.0.1', family: 'ipv4' });
    assert.deepEqual(normalizeAddress('FE80::1%eth0'), { address: 'fe80::1', family: 'ipv6' });
  });
});

describe('SourceAddress', () => {
  const behindEdge = new SourceAddress(['10.0.0.1', '10.0.0.2']);
  it('is the peer unless the peer is a trusted proxy', () => {
    assert.equal(behindEdge.of('203.0.113.9', '10.1.1.1'), '203.0.113.9');
    assert.equal(new SourceAddress([]).of('127.0.0.1', '10.1.1.1'), '127.0.0.1');
  });
  it('walks X-Forwarded-For from the right, skipping trusted proxies', () => {
    assert.equal(behindEdge.of('10.0.0.1', '198.51.100.1, 203.0.113.9'), '203.0.113.9');
    assert.equal(behindEdge.of('::ffff:10.0.0.1', ['198.51.100.1', '203.0.113.9, 10.0.0.2']), '203.0.113.9');
    assert.equal(behindEdge.of('10.0.0.1', '2001:db8::5'), '2001:db8::5');
    assert.equal(behindEdge.of('10.0.0.1', undefined), '10.0.0.1');
    assert.equal(behindEdge.of('10.0.0.1', 'junk, 203.0.113.9'), '203.0.113.9');
    assert.equal(behindEdge.of('10.0.0.1', '203.0.113.9, junk'), 'junk');
  });
});
