import { createPrivateKey, createPublicKey, createSign, diffieHellman, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createRequire } from 'node:module';
import { CipherContext } from 'werift';

/**
 * werift's DTLS handshake through node:crypto (OpenSSL) instead of JavaScript, for the two steps of
 * every handshake that werift leaves to pure-JS libraries (werift 0.24.x):
 *
 * - **X25519** (the curve Chromium and werift offer first, so the one every viewer gets): werift
 *   calls `nacl.box.keyPair()` for the server's key pair (flight 2, namedCurve.js generateKeyPair)
 *   and `nacl.scalarMult(priv, pub)` for the premaster secret (prf.js prfPreMasterSecret), both in
 *   tweetnacl: ~0.55 ms of CPU each, warm, plus its Float64Array garbage. Native: ~0.06 + 0.04 ms.
 * - **The ServerKeyExchange signature** (ECDSA P-256 with the process's certificate key): werift
 *   calls @fidm/x509's `PrivateKey.sign`, which rebuilds the key's PEM (ASN.1 -> DER -> base64) and
 *   makes OpenSSL parse it again for every signature: ~0.43 ms. With the key parsed once per key
 *   (a KeyObject kept beside it): ~0.035 ms.
 *
 * How: werift looks both up on the libraries' module objects at every call (`nacl.scalarMult(...)`,
 * `privateKey.sign(...)`), so replacing those properties on the objects Node has loaded changes what
 * werift runs without touching node_modules. Under tsx werift's ESM build imports them from
 * node_modules; the built bundle (scripts/build.mjs, dist/vendor/werift.js) keeps them external for
 * this reason, so both import the same module objects this file changes. The results are the same
 * bytes (RFC 7748 X25519, DER ECDSA), and anything the native path does not recognise goes to the
 * original function, so behaviour does not change: a key pair this file did not make, or a peer's
 * public key OpenSSL refuses (a small-order point: tweetnacl then returns zeros as before).
 *
 * - **The client's CertificateVerify signature** (werift as the DTLS client: bench:webrtc's viewers,
 *   the warm-up's): werift's `CipherContext.signatureData` hands OpenSSL the key as PEM text, parsed
 *   again for every signature; it gets the same parsed KeyObject.
 * - **The certificate, parsed again for every peer**: werift parses the process's one certificate and
 *   key from PEM (@fidm/x509's `Certificate.fromPEM`, `PrivateKey.fromPEM`: ASN.1 in JavaScript,
 *   ~1-2 ms each) in every DTLS transport, and the certificate again each time a peer's SDP reads
 *   its fingerprint. The parsed objects are kept per PEM text (werift only reads them: `raw`,
 *   `publicKey`, `sign`), so each is parsed once per process, and the signing KeyObject with it.
 *
 * P-256 ECDH stays in @noble/curves (its objects are frozen); neither Chromium nor werift offers it
 * first, so a viewer's handshake does not use it.
 */

interface Nacl {
  box: { keyPair(): { publicKey: Uint8Array; secretKey: Uint8Array } };
  scalarMult(n: Uint8Array, p: Uint8Array): Uint8Array;
}
interface FidmPrivateKey {
  oid: string;
  toPEM(): string;
  sign(data: Buffer, hashAlgorithm: string): Buffer;
}
interface SignatureContext {
  localPrivateKey?: FidmPrivateKey;
  signatureData(data: Buffer, hash: string): Buffer;
}

interface FromPem {
  fromPEM(pem: Buffer): unknown;
}
interface FidmX509 {
  Certificate: FromPem;
  PrivateKey: FromPem & { prototype: FidmPrivateKey; _signers: Record<string, unknown> };
}

/** Distinct PEM texts kept parsed, at most (a process has one certificate; werift makes one). */
const PEM_CACHE_MAX = 8;

/** `fromPEM` remembering its result per PEM text (the parsed objects are only read). */
function parsedOnce(fromPEM: (pem: Buffer) => unknown, cls: unknown): (pem: Buffer) => unknown {
  const parsed = new Map<string, unknown>();
  return (pem: Buffer) => {
    const key = Buffer.isBuffer(pem) || typeof pem === 'string' ? pem.toString() : undefined;
    if (key === undefined) return fromPEM.call(cls, pem);
    let obj = parsed.get(key);
    if (obj === undefined) {
      obj = fromPEM.call(cls, pem);
      if (parsed.size >= PEM_CACHE_MAX) parsed.clear();
      parsed.set(key, obj);
    } else nativeDtlsCalls.pemReused++;
    return obj;
  };
}

/** The ArrayBuffer of each secret key made here -> its KeyObject (werift wraps `.buffer` in a Buffer). */
const x25519Keys = new WeakMap<ArrayBufferLike, KeyObject>();
/** Each certificate key -> its parsed KeyObject. */
const signingKeys = new WeakMap<FidmPrivateKey, KeyObject>();

/** Calls that took the native path (tests and benches check that a handshake went through here). */
export const nativeDtlsCalls = { x25519KeyPair: 0, x25519Shared: 0, sign: 0, pemReused: 0 };

let restoreFn: (() => void) | undefined;
/** Set by chooseDtlsCrypto(false) (benches' A/B): useNativeDtlsCrypto then leaves werift's JavaScript. */
let jsOnly = false;

/** The libraries as werift resolves them (from its own package folder). */
function weriftLibs(): { nacl: Nacl; x509: FidmX509 } {
  const fromWerift = createRequire(createRequire(import.meta.url).resolve('werift'));
  return { nacl: fromWerift('tweetnacl') as Nacl, x509: fromWerift('@fidm/x509') as FidmX509 };
}

/**
 * Installs the native paths (once per process; later calls do nothing). Returns whether they are
 * installed. Called before werift makes a peer (whep/peer.ts createPeer, warmUp; whep-client.ts).
 */
export function useNativeDtlsCrypto(): boolean {
  if (restoreFn) return true;
  if (jsOnly) return false;
  let libs: ReturnType<typeof weriftLibs>;
  try {
    libs = weriftLibs();
  } catch {
    return false; // werift's layout changed: its own JavaScript keeps working
  }
  const { nacl, x509 } = libs;
  const jsKeyPair = nacl.box.keyPair;
  const jsScalarMult = nacl.scalarMult;
  const jsSign = x509.PrivateKey.prototype.sign;
  const cipherProto = CipherContext.prototype as unknown as SignatureContext;
  const jsSignatureData = cipherProto.signatureData;
  const certFromPem = x509.Certificate.fromPEM;
  const keyFromPem = x509.PrivateKey.fromPEM;
  x509.Certificate.fromPEM = parsedOnce(certFromPem, x509.Certificate);
  x509.PrivateKey.fromPEM = parsedOnce(keyFromPem, x509.PrivateKey);

  // Object.assign keeps the functions' own properties (box.keyPair.fromSecretKey, scalarMult.base).
  nacl.box.keyPair = Object.assign(() => {
    const { privateKey } = generateKeyPairSync('x25519');
    const jwk = privateKey.export({ format: 'jwk' });
    // Fresh arrays that own their buffers: werift wraps `keys.secretKey.buffer`.
    const secretKey = new Uint8Array(Buffer.from(jwk.d!, 'base64url'));
    const publicKey = new Uint8Array(Buffer.from(jwk.x!, 'base64url'));
    x25519Keys.set(secretKey.buffer, privateKey);
    nativeDtlsCalls.x25519KeyPair++;
    return { publicKey, secretKey };
  }, jsKeyPair);
  nacl.scalarMult = Object.assign(function (this: unknown, n: Uint8Array, p: Uint8Array): Uint8Array {
    const key = n.byteLength === 32 && n.byteOffset === 0 ? x25519Keys.get(n.buffer) : undefined;
    if (!key || p.byteLength !== 32) return jsScalarMult.call(this, n, p);
    try {
      const peer = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(p.buffer, p.byteOffset, 32).toString('base64url') }, format: 'jwk' });
      const shared = new Uint8Array(diffieHellman({ privateKey: key, publicKey: peer }));
      nativeDtlsCalls.x25519Shared++;
      return shared;
    } catch {
      return jsScalarMult.call(this, n, p);
    }
  }, jsScalarMult);
  const keyObject = (k: FidmPrivateKey): KeyObject => {
    let key = signingKeys.get(k);
    if (!key) signingKeys.set(k, (key = createPrivateKey(k.toPEM())));
    return key;
  };
  x509.PrivateKey.prototype.sign = function (this: FidmPrivateKey, data: Buffer, hashAlgorithm: string): Buffer {
    // Keys @fidm signs itself (Ed25519) keep its path.
    if (x509.PrivateKey._signers[this.oid] != null) return jsSign.call(this, data, hashAlgorithm);
    nativeDtlsCalls.sign++;
    return createSign(hashAlgorithm).update(data).sign(keyObject(this));
  };
  cipherProto.signatureData = function (this: SignatureContext, data: Buffer, hash: string): Buffer {
    if (!this.localPrivateKey) return jsSignatureData.call(this, data, hash);
    nativeDtlsCalls.sign++;
    return createSign(hash).update(data).sign(keyObject(this.localPrivateKey));
  };
  restoreFn = () => {
    nacl.box.keyPair = jsKeyPair;
    nacl.scalarMult = jsScalarMult;
    x509.PrivateKey.prototype.sign = jsSign;
    cipherProto.signatureData = jsSignatureData;
    x509.Certificate.fromPEM = certFromPem;
    x509.PrivateKey.fromPEM = keyFromPem;
  };
  return true;
}

/** For A/B measurements: native (the default) or werift's own JavaScript, process-wide, from now on. */
export function chooseDtlsCrypto(native: boolean): void {
  jsOnly = !native;
  if (native) useNativeDtlsCrypto();
  else {
    restoreFn?.();
    restoreFn = undefined;
  }
}
