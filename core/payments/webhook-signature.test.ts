import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { signWebhook, verifyWebhookSignature, WebhookRefusedError, WebhookSignatureError } from './webhook-signature.js';

const KEY = 'k'.repeat(32);
const body = Buffer.from('{"id":"evt_1"}');
const now = 1_800_000_000_000;
const t = now / 1000;

describe('webhook signatures', () => {
  const cases: Array<[string, string | undefined, Buffer, unknown]> = [
    ['a genuine delivery', signWebhook(KEY, body, t), body, 'ok'],
    ['no header', undefined, body, WebhookSignatureError],
    ['a malformed header', 't=abc,v1=zz', body, WebhookSignatureError],
    ['another key', signWebhook('x'.repeat(32), body, t), body, WebhookSignatureError],
    ['a changed body', signWebhook(KEY, body, t), Buffer.from('{"id":"evt_2"}'), WebhookSignatureError],
    ['a changed timestamp', signWebhook(KEY, body, t).replace(`t=${t}`, `t=${t + 1}`), body, WebhookSignatureError],
    ['older than the window', signWebhook(KEY, body, t - 301), body, WebhookRefusedError],
    ['ahead of the window', signWebhook(KEY, body, t + 301), body, WebhookRefusedError],
    ['just inside the window', signWebhook(KEY, body, t - 299), body, 'ok'],
  ];
  for (const [name, header, raw, expected] of cases) {
    it(name, () => {
      const run = () => verifyWebhookSignature(KEY, header, raw, now, 300_000);
      if (expected === 'ok') assert.match(run(), /^[0-9a-f]{64}$/);
      else assert.throws(run, expected as new () => Error);
    });
  }
  it('calls an expired delivery webhook_expired and a forged one webhook_signature_invalid', () => {
    assert.throws(() => verifyWebhookSignature(KEY, signWebhook(KEY, body, t - 600), body, now, 300_000), { code: 'webhook_expired' });
    assert.throws(() => verifyWebhookSignature(KEY, signWebhook('y'.repeat(32), body, t - 600), body, now, 300_000), { code: 'webhook_signature_invalid' });
  });
});
