import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { maskKeys, safeUrl, streamNameForLog } from './logger.js';

describe('log-safe text', () => {
  it('safeUrl drops the query and masks stream-key path segments', () => {
    assert.equal(safeUrl('/api/v1/rooms/12?token=abc'), '/api/v1/rooms/12?[query hidden]');
    assert.equal(safeUrl('/live/sk_AbC-12_x.flv?token=x'), '/live/[key hidden]?[query hidden]');
    assert.equal(safeUrl('/live/sk_AbC/index.m3u8'), '/live/[key hidden]/index.m3u8');
    assert.equal(safeUrl(undefined), '');
  });

  it('streamNameForLog shows room ids and fingerprints anything else', () => {
    assert.equal(streamNameForLog('1234567890'), '1234567890');
    const f = streamNameForLog('sk_secret-value');
    assert.match(f, /^#[0-9a-f]{10}$/);
    assert.equal(streamNameForLog('sk_secret-value'), f, 'stable, so a suspected value can be matched');
    assert.ok(!f.includes('secret'));
  });

  it('maskKeys hides key-shaped words in free text', () => {
    assert.equal(maskKeys('live'), 'live');
    assert.equal(maskKeys('app sk_abc-DEF_1 end'), 'app [key hidden] end');
  });
});
