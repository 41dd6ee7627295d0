/**
 * werift's DTLS crypto through node:crypto (native-dtls-crypto.ts): a real handshake (two werift
 * peers, ICE and DTLS over loopback UDP) connects through the native paths, and the X25519 results
 * are tweetnacl's bytes. The built bundle's side is in tests/e2e/production-build.test.ts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { nativeDtlsCalls, useNativeDtlsCrypto } from './native-dtls-crypto.js';
import { warmUp } from './peer.js';

interface Nacl {
  box: { keyPair: { (): { publicKey: Uint8Array; secretKey: Uint8Array }; fromSecretKey?: unknown } };
  scalarMult: { (n: Uint8Array, p: Uint8Array): Uint8Array; base(n: Uint8Array): Uint8Array };
}
const nacl = createRequire(createRequire(import.meta.url).resolve('werift'))('tweetnacl') as Nacl;

describe('werift DTLS crypto through node:crypto', () => {
  it('two werift peers connect (ICE + DTLS over UDP) with X25519, the key signature and the certificate native', async () => {
    const before = { ...nativeDtlsCalls };
    assert.equal(await warmUp({ iceHosts: ['127.0.0.1'] }, 10_000), true, 'connected');
    // Both ends make an X25519 key pair and a premaster secret; the server signs its key.
    assert.ok(nativeDtlsCalls.x25519KeyPair - before.x25519KeyPair >= 2, 'key pairs from node:crypto');
    assert.ok(nativeDtlsCalls.x25519Shared - before.x25519Shared >= 2, 'premaster secrets from node:crypto');
    // The server's ServerKeyExchange and the client's CertificateVerify.
    assert.ok(nativeDtlsCalls.sign - before.sign >= 2, 'signed with a parsed KeyObject');
    assert.ok(nativeDtlsCalls.pemReused - before.pemReused >= 1, 'the certificate is not parsed again per peer');
  });

  it('gives tweetnacl\'s X25519 bytes, and falls back to it for what it did not make', () => {
    assert.equal(useNativeDtlsCrypto(), true);
    const ours = nacl.box.keyPair();
    const theirs = nacl.box.keyPair();
    assert.deepEqual(Buffer.from(nacl.scalarMult.base(ours.secretKey)), Buffer.from(ours.publicKey), 'the public key is the secret\'s');
    const calls = nativeDtlsCalls.x25519Shared;
    // As werift calls it: a Buffer over the key pair's own ArrayBuffer.
    const native = nacl.scalarMult(Buffer.from(ours.secretKey.buffer), theirs.publicKey);
    assert.equal(nativeDtlsCalls.x25519Shared, calls + 1, 'native path taken');
    // A copy of the secret is not one this process made: tweetnacl's own JavaScript answers.
    const js = nacl.scalarMult(new Uint8Array(ours.secretKey), theirs.publicKey);
    assert.equal(nativeDtlsCalls.x25519Shared, calls + 1, 'JavaScript path taken');
    assert.deepEqual(Buffer.from(native), Buffer.from(js));
    // A small-order point OpenSSL refuses: tweetnacl's result (zeros), as before, not a throw.
    assert.deepEqual(Buffer.from(nacl.scalarMult(Buffer.from(ours.secretKey.buffer), new Uint8Array(32))), Buffer.alloc(32));
    assert.equal(typeof nacl.box.keyPair.fromSecretKey, 'function', 'the functions keep their own properties');
  });
});
