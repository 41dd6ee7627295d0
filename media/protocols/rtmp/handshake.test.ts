import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { ServerHandshake, ClientHandshake, buildClientHello, digestOffset, findClientDigest, verifyServerS1, verifyServerS2, HANDSHAKE_SIZE } from './handshake.js';
import { RtmpProtocolError } from './rtmp-error.js';

describe('RTMP handshake', () => {
  it('plain: S2 echoes C1, then hands over the bytes after C2', () => {
    const hello = buildClientHello(false);
    const server = new ServerHandshake();
    const step1 = server.push(hello);
    assert.equal(step1.done, false);
    assert.equal(step1.reply!.length, 1 + 2 * HANDSHAKE_SIZE);
    assert.deepEqual(step1.reply!.subarray(1 + HANDSHAKE_SIZE), hello.subarray(1));
    assert.equal(server.digest, false);
    const client = new ClientHandshake();
    const { c2 } = client.push(step1.reply!)!;
    const step2 = server.push(Buffer.concat([c2, Buffer.from([1, 2, 3])]));
    assert.equal(step2.done, true);
    assert.deepEqual(step2.done && [...step2.rest], [1, 2, 3]);
  });

  for (const scheme of [0, 1] as const) {
    it(`digest scheme ${scheme}: finds the client digest and answers with valid S1/S2 digests`, () => {
      const hello = buildClientHello(true, scheme);
      assert.equal(findClientDigest(hello.subarray(1))?.scheme, scheme);
      const server = new ServerHandshake();
      const reply = server.push(hello).reply!;
      assert.equal(server.digest, true);
      const s1 = reply.subarray(1, 1 + HANDSHAKE_SIZE);
      const s2 = reply.subarray(1 + HANDSHAKE_SIZE);
      assert.ok(verifyServerS1(s1, scheme));
      assert.ok(verifyServerS2(s2, hello.subarray(1), scheme));
    });
  }

  it('answers a C1 with a zero version field plainly, without looking for a digest (as nginx-rtmp does)', () => {
    // A valid Flash Player digest at scheme 0's place, signed over a version field (bytes 4..7) of
    // zero: by the spec a plain C1.
    const hello = buildClientHello(false);
    const c1 = hello.subarray(1);
    const off = digestOffset(c1, 0);
    createHmac('sha256', 'Genuine Adobe Flash Player 001').update(c1.subarray(0, off)).update(c1.subarray(off + 32)).digest().copy(c1, off);
    assert.equal(findClientDigest(c1), undefined);
    const server = new ServerHandshake();
    const reply = server.push(hello).reply!;
    assert.equal(server.digest, false);
    assert.deepEqual(reply.subarray(1 + HANDSHAKE_SIZE), c1, 'S2 echoes C1');
  });

  it('accepts C0+C1 in one-byte pieces', () => {
    const hello = buildClientHello(false);
    const server = new ServerHandshake();
    let reply: Buffer | undefined;
    for (let i = 0; i < hello.length; i++) reply ??= server.push(hello.subarray(i, i + 1)).reply;
    assert.ok(reply);
  });

  it('rejects a bad version byte', () => {
    assert.throws(() => new ServerHandshake().push(Buffer.from([6, 0, 0])), RtmpProtocolError);
    assert.throws(() => new ServerHandshake().push(Buffer.from('GET / HTTP/1.1\r\n')), RtmpProtocolError);
  });

  it('never throws anything but RtmpProtocolError on random bytes', () => {
    for (let i = 0; i < 300; i++) {
      const bytes = randomBytes(1 + i * 11);
      bytes[0] = i % 2 ? 3 : bytes[0]!;
      try {
        new ServerHandshake().push(bytes);
      } catch (err) {
        assert.ok(err instanceof RtmpProtocolError);
      }
    }
  });
});
