import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { lastSegmentNumber, withTokenOnSegments } from './playlist.js';
import { ffmpegHlsArgs, HLS_SEGMENT_PATTERN } from './ffmpeg-hls-args.js';

describe('withTokenOnSegments', () => {
  const playlist = '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n#EXTINF:1.0,\nseg-3.ts\n#EXTINF:1.0,\nseg-4.ts\n';
  const cases: [string, string, string][] = [
    ['plain token', 'abc', 'seg-3.ts?token=abc'],
    ['token needing escapes', 'a+b/c=&d', 'seg-3.ts?token=a%2Bb%2Fc%3D%26d'],
  ];
  for (const [name, token, first] of cases) {
    it(name, () => {
      const out = withTokenOnSegments(playlist, token);
      const uris = out.split('\n').filter((l) => l && !l.startsWith('#'));
      assert.equal(uris[0], first);
      assert.equal(uris.length, 2);
      assert.equal(out.split('\n').filter((l) => l.startsWith('#')).length, 5, 'tags untouched');
    });
  }
  it('appends with & when a URI already has a query', () => {
    assert.equal(withTokenOnSegments('#EXTM3U\nseg-1.ts?x=1\n', 't'), '#EXTM3U\nseg-1.ts?x=1&token=t\n');
  });
});

describe('lastSegmentNumber', () => {
  it('finds the highest segment and ignores other files', () => {
    assert.equal(lastSegmentNumber(['index.m3u8', 'seg-9.ts', 'seg-12.ts', 'seg-13.ts.tmp', 'x.ts'], HLS_SEGMENT_PATTERN), 12);
    assert.equal(lastSegmentNumber([], HLS_SEGMENT_PATTERN), -1);
  });
});

describe('ffmpegHlsArgs', () => {
  it('copies codecs from FLV on stdin into a short live playlist', () => {
    const args = ffmpegHlsArgs({ dir: '/d', segmentSeconds: 1, listSize: 6, startNumber: 7, discontinuity: true });
    const after = (flag: string) => args[args.indexOf(flag) + 1];
    assert.equal(after('-i'), 'pipe:0');
    assert.equal(after('-c'), 'copy');
    assert.equal(after('-hls_time'), '1');
    assert.equal(after('-start_number'), '7');
    assert.match(after('-hls_flags')!, /delete_segments.*omit_endlist.*discont_start/);
    assert.equal(args.at(-1), '/d/index.m3u8');
  });
});
