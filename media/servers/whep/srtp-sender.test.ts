import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { ProtectionProfileAeadAes128Gcm, ProtectionProfileAes128CmHmacSha1_80, RtpPacket, SrtpSession, type RTCRtpSender } from 'werift';
import { ntpNow, skipIpLookup, SrtpSender } from './srtp-sender.js';

/**
 * SrtpSender's packets must decrypt with werift's own SRTP (the receiver side libsrtp and Chromium
 * implement the same RFCs; tests/e2e/webrtc-browser.test.ts plays them in Chromium), across the
 * 16-bit sequence wrap (the rollover counter) and when re-sent for a NACK.
 */
describe('SrtpSender', () => {
  const sockets: Socket[] = [];
  after(() => sockets.forEach((s) => s.close()));

  async function pair(profile: number) {
    const saltLen = profile === ProtectionProfileAeadAes128Gcm ? 12 : 14;
    const [k1, s1, k2, s2] = [randomBytes(16), randomBytes(saltLen), randomBytes(16), randomBytes(saltLen)];
    const ours = new SrtpSession({ keys: { localMasterKey: k1, localMasterSalt: s1, remoteMasterKey: k2, remoteMasterSalt: s2 }, profile });
    const theirs = new SrtpSession({ keys: { localMasterKey: k2, localMasterSalt: s2, remoteMasterKey: k1, remoteMasterSalt: s1 }, profile });
    const rx = createSocket('udp4');
    const tx = createSocket('udp4');
    sockets.push(rx, tx);
    await new Promise<void>((r) => rx.bind(0, '127.0.0.1', r));
    await new Promise<void>((r) => tx.bind(0, '127.0.0.1', r));
    const received: RtpPacket[] = [];
    rx.on('message', (buf) => received.push(RtpPacket.deSerialize(theirs.decrypt(buf))));
    let nack: ((n: { lost: number[] }) => void) | undefined;
    const fake = {
      ssrc: 0x1234_5678, codec: { payloadType: 102 }, ntpTimestamp: 0n, rtpTimestamp: 0, packetCount: 0, octetCount: 0,
      runRtcp: async () => {},
      onGenericNack: { subscribe: (f: (n: { lost: number[] }) => void) => ((nack = f), { unSubscribe() {} }) },
      dtlsTransport: {
        state: 'connected',
        srtp: ours,
        iceTransport: { connection: { nominated: { remoteAddr: ['127.0.0.1', rx.address().port], protocol: { transport: { socket: tx } } }, canSendApplicationData: () => true } },
      },
    };
    return { sender: new SrtpSender(fake as unknown as RTCRtpSender), fake, received, nack: (lost: number[]) => nack?.({ lost }) };
  }

  async function until(cond: () => boolean): Promise<void> {
    for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  }

  for (const [name, profile] of [['AEAD_AES_128_GCM', ProtectionProfileAeadAes128Gcm], ['AES_CM_128_HMAC_SHA1_80', ProtectionProfileAes128CmHmacSha1_80]] as const) {
    it(`${name}: decrypts with werift across the sequence wrap and for a NACK`, async () => {
      const { sender, fake, received, nack } = await pair(profile);
      const payloads = [0xfffe, 0xffff, 0, 1].map(() => randomBytes(900));
      [0xfffe, 0xffff, 0, 1].forEach((seq, i) => assert.ok(sender.send(payloads[i]!, seq, 90_000 + i, i === 3)));
      await until(() => received.length === 4);
      assert.deepEqual(received.map((p) => p.header.sequenceNumber), [0xfffe, 0xffff, 0, 1]);
      received.forEach((p, i) => {
        assert.ok(p.payload.equals(payloads[i]!), `payload ${i}`);
        assert.equal(p.header.ssrc, 0x1234_5678);
        assert.equal(p.header.payloadType, 102);
        assert.equal(p.header.marker, i === 3);
      });
      nack([0xffff, 1, 7]); // 7 was never sent: ignored
      await until(() => received.length === 6);
      assert.equal(received.length, 6);
      assert.ok(received[4]!.payload.equals(payloads[1]!) && received[5]!.payload.equals(payloads[3]!));
      assert.equal(fake.packetCount, 4);
      assert.equal(fake.rtpTimestamp, 90_003);
      sender.close();
    });
  }

  it('skipIpLookup: a socket still reaches an IP literal and a name (the name through DNS)', async () => {
    const rx = createSocket('udp4');
    const tx = createSocket('udp4');
    sockets.push(rx, tx);
    await new Promise<void>((r) => rx.bind(0, '127.0.0.1', r));
    await new Promise<void>((r) => tx.bind(0, '127.0.0.1', r));
    const got: string[] = [];
    rx.on('message', (m) => got.push(m.toString()));
    skipIpLookup(tx);
    skipIpLookup(tx); // idempotent
    const port = rx.address().port;
    tx.send([Buffer.from('by '), Buffer.from('ip')], port, '127.0.0.1');
    tx.send('by name', port, 'localhost');
    const failed = await new Promise<Error | null>((r) => tx.send('bad name', port, 'no-such-host.invalid', (err) => r(err)));
    await until(() => got.length === 2);
    assert.deepEqual(got.sort(), ['by ip', 'by name']);
    assert.ok(failed, 'an unresolvable name still fails through DNS');
  });

  it('ntpNow: seconds since 1900 and a 32-bit fraction', () => {
    const ntp = ntpNow(Date.UTC(2026, 0, 1, 0, 0, 0, 500));
    assert.equal(Number(ntp >> 32n), Date.UTC(2026, 0, 1) / 1000 + 2_208_988_800);
    assert.equal(Number(ntp & 0xffff_ffffn), 0x8000_0000);
  });
});
