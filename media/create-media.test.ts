import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../core/config/load.js';
import { mediaPlugins } from './create-media.js';

describe('createMedia: one plugin set for every composition root', () => {
  it('grabs frames (ONAIR_FRAMES) before HLS claims the folder, records, and serves HLS only when ONAIR_HLS says so', () => {
    const names = (env: Record<string, string>) => mediaPlugins(loadConfig({ ONAIR_DATA_DIR: '/tmp/onair-create-media', ...env })).map((p) => p.name);
    assert.deepEqual(names({}), ['frames', 'recorder', 'hls']);
    assert.deepEqual(names({ ONAIR_HLS: 'false' }), ['frames', 'recorder']);
    assert.deepEqual(names({ ONAIR_FRAMES: 'false', ONAIR_HLS: 'false' }), ['recorder']);
  });
});
