import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { newStreamKey, looksLikeStreamKey } from './stream-key.js';
import { signPlayToken, verifyPlayToken } from './play-token.js';
import { signTxSecret, txTimeHex, verifyTxSecret, pushSigningKey } from './tx-secret.js';
import { secureLinkHash, secureLinkUrl, verifySecureLink } from './secure-link.js';
import { safeEqual } from './compare.js';

const secret = 'test-secret-0123456789abcdef';

describe('stream keys', () => {
  it('are sk_ + 32 random bytes base64url, all different', () => {
    const keys = new Set(Array.from({ length: 200 }, newStreamKey));
    assert.equal(keys.size, 200);
    for (const k of keys) {
      assert.ok(looksLikeStreamKey(k), k);
      assert.equal(Buffer.from(k.slice(3), 'base64url').length, 32);
    }
    assert.equal(looksLikeStreamKey('sk_short'), false);
  });
});

describe('play tokens', () => {
  const now = 1_800_000_000;
  it('round-trips room, viewer and expiry', () => {
    const token = signPlayToken(secret, { room: '42', viewer: '7', exp: now + 60 });
    assert.deepEqual(verifyPlayToken(secret, token, { room: '42', nowSec: now }), { ok: true, claims: { room: '42', viewer: '7', exp: now + 60 } });
    const anon = signPlayToken(secret, { room: '42', exp: now + 60 });
    assert.deepEqual(verifyPlayToken(secret, anon, { room: '42', nowSec: now }), { ok: true, claims: { room: '42', viewer: undefined, exp: now + 60 } });
  });

  const cases: Array<[string, () => string, string]> = [
    ['expired', () => signPlayToken(secret, { room: '42', exp: now }), 'expired'],
    ['issued for another room', () => signPlayToken(secret, { room: '43', exp: now + 60 }), 'wrong_stream'],
    ['signed with another secret', () => signPlayToken('another-secret-0123456789', { room: '42', exp: now + 60 }), 'bad_signature'],
    ['expiry edited', () => {
      const [room, viewer, , sig] = Buffer.from(signPlayToken(secret, { room: '42', exp: now + 60 }), 'base64url').toString().split('|');
      return Buffer.from(`${room}|${viewer}|${now + 99999}|${sig}`).toString('base64url');
    }, 'bad_signature'],
    ['viewer edited', () => {
      const [room, , exp, sig] = Buffer.from(signPlayToken(secret, { room: '42', viewer: '1', exp: now + 60 }), 'base64url').toString().split('|');
      return Buffer.from(`${room}|2|${exp}|${sig}`).toString('base64url');
    }, 'bad_signature'],
    ['a stream key', () => newStreamKey(), 'malformed'],
    ['garbage', () => '!!!not-base64!!!', 'malformed'],
    ['empty', () => '', 'malformed'],
    ['huge', () => 'A'.repeat(5000), 'malformed'],
    ['three fields', () => Buffer.from('42|1|2').toString('base64url'), 'malformed'],
  ];
  for (const [name, make, reason] of cases) {
    it(`refuses a token: ${name}`, () => {
      const check = verifyPlayToken(secret, make(), { room: '42', nowSec: now });
      assert.deepEqual(check, { ok: false, reason });
    });
  }

  it('refuses another spelling of a valid token: one token is one string (base64url decoding ignores stray trailing bits)', () => {
    const token = signPlayToken(secret, { room: '42', viewer: '7', exp: now + 60 });
    const bytes = Buffer.from(token, 'base64url');
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const variants = new Set<string>();
    for (const c of alphabet) {
      variants.add(token + c);
      variants.add(token.slice(0, -1) + c);
    }
    variants.delete(token);
    const sameBytes = [...variants].filter((v) => Buffer.from(v, 'base64url').equals(bytes));
    assert.ok(sameBytes.length > 0, 'the decoder accepts other spellings of the same bytes');
    for (const v of sameBytes) assert.deepEqual(verifyPlayToken(secret, v, { room: '42', nowSec: now }), { ok: false, reason: 'malformed' }, v);
  });

  it('a push txSecret for the same room is not a play token', () => {
    const tx = signTxSecret(pushSigningKey(secret), 'sk_x', txTimeHex(now + 60));
    assert.equal(verifyPlayToken(secret, tx, { room: '42', nowSec: now }).ok, false);
  });
});

describe('Tencent txSecret/txTime', () => {
  // Vector from Tencent Cloud CSS "Hotlink Protection URL Calculation"
  // (https://intl.cloud.tencent.com/document/product/267/31560): KEY e12c46f2612d5106e2034781ab261ca3,
  // StreamName test, txTime 5C271099 -> txSecret f85a2ab363fe4deaffef9754d79da6fe, URL
  // rtmp://livepush.tcloud.com/live/test?txSecret=f85a2ab363fe4deaffef9754d79da6fe&txTime=5C271099
  const KEY = 'e12c46f2612d5106e2034781ab261ca3';
  it('matches the documented vector', () => {
    assert.equal(signTxSecret(KEY, 'test', '5C271099'), 'f85a2ab363fe4deaffef9754d79da6fe');
    assert.equal(txTimeHex(0x5c271099), '5C271099');
    // The same doc: 1694669601 decimal is 65029b21 hexadecimal.
    assert.equal(txTimeHex(1694669601).toLowerCase(), '65029b21');
  });
  it('verifies before expiry, refuses after, and refuses edits', () => {
    const q = { txSecret: 'f85a2ab363fe4deaffef9754d79da6fe', txTime: '5C271099' };
    assert.deepEqual(verifyTxSecret(KEY, 'test', q, 0x5c271099 - 1), { ok: true, expiresAt: 0x5c271099 });
    assert.deepEqual(verifyTxSecret(KEY, 'test', q, 0x5c271099), { ok: false, reason: 'expired' });
    assert.deepEqual(verifyTxSecret(KEY, 'test', { ...q, txTime: '5C27109A' }, 0), { ok: false, reason: 'bad_signature' });
    assert.deepEqual(verifyTxSecret(KEY, 'other', q, 0), { ok: false, reason: 'bad_signature' });
    assert.deepEqual(verifyTxSecret(KEY, 'test', { txTime: '5C271099' }, 0), { ok: false, reason: 'malformed' });
    assert.deepEqual(verifyTxSecret(KEY, 'test', { ...q, txSecret: q.txSecret.toUpperCase() }, 0).ok, true);
  });
  it('the push key is derived from, and different from, the server secret', () => {
    assert.match(pushSigningKey(secret), /^[0-9a-f]{32}$/);
    assert.notEqual(pushSigningKey(secret), pushSigningKey(secret + 'x'));
  });
});

describe('nginx secure_link_md5', () => {
  // Vector from the ngx_http_secure_link_module documentation
  // (https://nginx.org/docs/http/ngx_http_secure_link_module.html):
  //   secure_link_md5 "$secure_link_expires$uri$remote_addr secret";
  //   echo -n '2147483647/s/link127.0.0.1 secret' | openssl md5 -binary | openssl base64 | tr +/ -_ | tr -d =
  //   -> _e4Nc3iduzkWRm01TBBNYw, link /s/link?md5=_e4Nc3iduzkWRm01TBBNYw&expires=2147483647
  const doc = { uri: '/s/link', expires: 2147483647, secret: 'secret', remoteAddr: '127.0.0.1' };
  it('matches the documented vector', () => {
    assert.equal(secureLinkHash(doc), '_e4Nc3iduzkWRm01TBBNYw');
    assert.equal(secureLinkUrl(doc), '/s/link?md5=_e4Nc3iduzkWRm01TBBNYw&expires=2147483647');
  });
  it('verifies like nginx: ok, expired, bad', () => {
    const base = { uri: '/s/link', md5: '_e4Nc3iduzkWRm01TBBNYw', expires: '2147483647', secret: 'secret', remoteAddr: '127.0.0.1' };
    assert.equal(verifySecureLink(base, 1_800_000_000), 'ok');
    assert.equal(verifySecureLink(base, 2147483647), 'expired');
    assert.equal(verifySecureLink({ ...base, remoteAddr: '10.0.0.1' }, 0), 'bad_signature');
    assert.equal(verifySecureLink({ ...base, uri: '/s/other' }, 0), 'bad_signature');
    assert.equal(verifySecureLink({ ...base, expires: 'abc' }, 0), 'bad_signature');
  });
  it('has no padding and only URL-safe characters', () => {
    for (let i = 0; i < 50; i++) assert.match(secureLinkHash({ uri: `/live/${i}.flv`, expires: 1_800_000_000 + i, secret }), /^[A-Za-z0-9_-]{22}$/);
  });
});

describe('safeEqual', () => {
  it('compares strings of any length', () => {
    assert.equal(safeEqual('abc', 'abc'), true);
    assert.equal(safeEqual('abc', 'abd'), false);
    assert.equal(safeEqual('abc', 'abcd'), false);
    assert.equal(safeEqual('', ''), true);
  });
});
