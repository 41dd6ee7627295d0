import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LivePlaylist } from './live-playlist.js';

const seg = (sequence: number, durationMs = 2000, discontinuity = false) => ({ sequence, name: `seg-${sequence}.ts`, durationMs, discontinuity });

describe('LivePlaylist', () => {
  it('slides a window and deletes a segment only after it stayed off the list for a while', () => {
    const p = new LivePlaylist(3, 2, 2);
    const deleted: string[] = [];
    for (let i = 0; i < 8; i++) deleted.push(...p.add(seg(i)));
    assert.deepEqual(p.segments.map((s) => s.sequence), [5, 6, 7]);
    assert.deepEqual(deleted, ['seg-0.ts', 'seg-1.ts', 'seg-2.ts'], 'seg-3 and seg-4 are still kept on disk');
    const text = p.render();
    assert.equal(text, [
      '#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-TARGETDURATION:2', '#EXT-X-MEDIA-SEQUENCE:5', '#EXT-X-INDEPENDENT-SEGMENTS',
      '#EXTINF:2.000,', 'seg-5.ts', '#EXTINF:2.000,', 'seg-6.ts', '#EXTINF:2.000,', 'seg-7.ts', '',
    ].join('\n'));
    assert.ok(!text.includes('#EXT-X-ENDLIST'), 'live');
  });

  it('marks discontinuities, counts those that left, and grows the target duration to cover long segments', () => {
    const p = new LivePlaylist(2, 1);
    p.add(seg(0, 1000));
    p.add(seg(1, 2600, true));
    assert.match(p.render(), /#EXT-X-TARGETDURATION:3\n/);
    assert.match(p.render(), /#EXT-X-DISCONTINUITY\n#EXTINF:2\.600,\nseg-1\.ts/);
    p.add(seg(2, 1000));
    p.add(seg(3, 1000));
    assert.match(p.render(), /#EXT-X-DISCONTINUITY-SEQUENCE:1\n/);
    assert.ok(!p.render().includes('#EXT-X-DISCONTINUITY\n'));
    assert.match(p.render(), /#EXT-X-TARGETDURATION:3\n/, 'never shrinks');
  });
});
