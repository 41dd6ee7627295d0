import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RtmpAdmission, type Admitted } from './admission.js';

const conn = (clientIp: string): Admitted => ({ clientIp, displace() {} });

describe('RtmpAdmission: connections per address', () => {
  it('counts an IPv6 client by its /64: a host taking a fresh address per connection gets no more than ONAIR_RTMP_MAX_CONNECTIONS_PER_IP', () => {
    // Before, the cap was per exact address: any IPv6 host (a /64 is 2^64 addresses) had no cap at all.
    const a = new RtmpAdmission<Admitted>({ max: 100, maxPerIp: 3, publisherReserve: 0 });
    for (let i = 1; i <= 3; i++) {
      const ip = `2001:db8:1:2::${i.toString(16)}`;
      assert.equal(a.admit(ip), true);
      a.joined(conn(ip));
    }
    assert.equal(a.admit('2001:db8:1:2:ffff:ffff:ffff:ffff'), false, 'the same /64');
    assert.equal(a.refusals.per_ip, 1);
    assert.equal(a.admit('2001:db8:1:3::1'), true, 'another /64 is another client');
  });

  it('counts an IPv4-mapped address as its IPv4 address, and frees the slot when the connection leaves', () => {
    const a = new RtmpAdmission<Admitted>({ max: 100, maxPerIp: 1, publisherReserve: 0 });
    const c = conn('::ffff:192.0.2.7');
    assert.equal(a.admit(c.clientIp), true);
    a.joined(c);
    assert.equal(a.admit('192.0.2.7'), false);
    a.left(c, false);
    assert.equal(a.admit('192.0.2.7'), true);
  });
});
