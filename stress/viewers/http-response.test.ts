import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HttpResponseReader } from './http-response.js';
import { parsePlaylist, resolveEntry } from './hls-playlist.js';

function read(chunks: Buffer[]): { body: string; r: HttpResponseReader } {
  let body = '';
  const r = new HttpResponseReader((buf, s, e) => (body += buf.toString('latin1', s, e)));
  for (const c of chunks) r.push(c);
  return { body, r };
}

describe('HttpResponseReader', () => {
  const chunked = Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: video/x-flv\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nA;ext=1\r\n0123456789\r\n0\r\n\r\n');
  it('de-chunks a chunked body whatever the split', () => {
    const whole = read([chunked]);
    assert.equal(whole.r.status, 200);
    assert.equal(whole.body, 'hello0123456789');
    assert.equal(read([...chunked].map((b) => Buffer.from([b]))).body, 'hello0123456789');
  });
  it('passes a plain body through and reports the status', () => {
    const { r, body } = read([Buffer.from('HTTP/1.1 403 Forbidden\r\nContent-Length: 3\r\n\r\nno!')]);
    assert.equal(r.status, 403);
    assert.equal(body, 'no!');
  });
  it('refuses bad chunk sizes, bad status lines and endless headers', () => {
    assert.equal(read([Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n')]).r.error, 'http-bad-chunk');
    assert.equal(read([Buffer.from('SSH-2.0-x\r\n\r\n')]).r.error, 'http-bad-status-line');
    assert.equal(read([Buffer.from('HTTP/1.1 200 OK\r\n'), Buffer.alloc(20_000, 0x61)]).r.error, 'http-header-too-large');
  });
});

describe('HLS playlist', () => {
  it('reads target duration, sequence, segments and the end marker', () => {
    const pl = parsePlaylist('#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:41\n#EXTINF:2.0,\nseg41.ts\n#EXTINF:2.0,\nseg42.ts\n#EXT-X-ENDLIST\n');
    assert.deepEqual(pl, { targetDuration: 2, mediaSequence: 41, segments: ['seg41.ts', 'seg42.ts'], ended: true });
  });
  it('finds the first variant of a master playlist', () => {
    assert.equal(parsePlaylist('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=2000000\nhi/index.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=1\nlo/index.m3u8\n').variant, 'hi/index.m3u8');
  });
  it('refuses what is not a playlist and keeps the token on relative entries', () => {
    assert.throws(() => parsePlaylist('<html>'));
    const base = new URL('http://127.0.0.1:8080/live/7/index.m3u8?token=abc');
    assert.equal(resolveEntry('seg1.ts', base).href, 'http://127.0.0.1:8080/live/7/seg1.ts?token=abc');
    assert.equal(resolveEntry('seg1.ts?token=own', base).href, 'http://127.0.0.1:8080/live/7/seg1.ts?token=own');
  });
});
