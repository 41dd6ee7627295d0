import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cssSign, verifyCssSignature } from './css-signature.js';
import { signMediaCallback, verifyMediaCallback, MEDIA_SIGNATURE_HEADER, MEDIA_TIMESTAMP_HEADER } from './media-callback-signature.js';

describe('CSS callback signature', () => {
  const now = 1_703_731_478_000;
  const t = 1_703_732_078; // the vendor's example: expiry 10 min after event_time 1703731478
  it('is MD5(key + t) as the vendor documents', () => {
    assert.equal(cssSign('mykey', t), createHash('md5').update(`mykey${t}`).digest('hex'));
    assert.equal(cssSign('mykey', t).length, 32);
  });
  it('accepts a fresh signature, in either hex case', () => {
    assert.deepEqual(verifyCssSignature('mykey', t, cssSign('mykey', t), now), { ok: true });
    assert.deepEqual(verifyCssSignature('mykey', t, cssSign('mykey', t).toUpperCase(), now), { ok: true });
  });
  it('refuses forged, expired, too-distant and unconfigured', () => {
    assert.deepEqual(verifyCssSignature('mykey', t, cssSign('other', t), now), { ok: false, reason: 'bad_signature' });
    assert.deepEqual(verifyCssSignature('mykey', t, 'short', now), { ok: false, reason: 'bad_signature' });
    assert.deepEqual(verifyCssSignature('mykey', t, cssSign('mykey', t), (t + 1) * 1000), { ok: false, reason: 'expired' });
    assert.deepEqual(verifyCssSignature('mykey', t + 2 * 86400, cssSign('mykey', t + 2 * 86400), now), { ok: false, reason: 'expiry_too_far' });
    // A captured signature used to be good for a day ahead; now only inside the window (11 min by default).
    assert.deepEqual(verifyCssSignature('mykey', t + 3600, cssSign('mykey', t + 3600), now), { ok: false, reason: 'expiry_too_far' });
    assert.deepEqual(verifyCssSignature('mykey', t, cssSign('mykey', t), now, 60_000), { ok: false, reason: 'expiry_too_far' });
    assert.deepEqual(verifyCssSignature(undefined, t, cssSign('', t), now), { ok: false, reason: 'missing_key' });
  });
});

describe('media callback signature', () => {
  const body = Buffer.from('{"event":"publish.started"}');
  it('round-trips and binds body and timestamp', () => {
    const h = signMediaCallback('k', body, 1000);
    assert.deepEqual(verifyMediaCallback('k', h[MEDIA_TIMESTAMP_HEADER], h[MEDIA_SIGNATURE_HEADER], body, 1000), { ok: true });
    assert.deepEqual(verifyMediaCallback('k', h[MEDIA_TIMESTAMP_HEADER], h[MEDIA_SIGNATURE_HEADER], Buffer.from('{}'), 1000), { ok: false, reason: 'bad_signature' });
    assert.deepEqual(verifyMediaCallback('k', '1001', h[MEDIA_SIGNATURE_HEADER], body, 1000), { ok: false, reason: 'bad_signature' });
    assert.deepEqual(verifyMediaCallback('x', h[MEDIA_TIMESTAMP_HEADER], h[MEDIA_SIGNATURE_HEADER], body, 1000), { ok: false, reason: 'bad_signature' });
  });
  it('refuses outside the 5 minute window and without headers', () => {
    const h = signMediaCallback('k', body, 1000);
    assert.deepEqual(verifyMediaCallback('k', h[MEDIA_TIMESTAMP_HEADER], h[MEDIA_SIGNATURE_HEADER], body, 1000 + 5 * 60_000 + 1), { ok: false, reason: 'stale_timestamp' });
    assert.deepEqual(verifyMediaCallback('k', undefined, undefined, body, 1000), { ok: false, reason: 'missing_headers' });
    assert.deepEqual(verifyMediaCallback(undefined, '1', 'v1=', body, 1000), { ok: false, reason: 'missing_key' });
  });
});
