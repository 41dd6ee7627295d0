import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { trustProxyFn } from './trust-proxy.js';

describe('trustProxyFn', () => {
  it('trusts nobody without a list, and the listed networks with one', () => {
    assert.equal(trustProxyFn([])('127.0.0.1'), false);
    const trust = trustProxyFn(['127.0.0.0/8', '10.0.0.0/8']);
    assert.equal(trust('127.0.0.1'), true);
    assert.equal(trust('::ffff:10.1.2.3'), true);
    assert.equal(trust('203.0.113.7'), false);
  });
});
