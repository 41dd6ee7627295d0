import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { missingTool } from '../testing/tools.js';
import { clipArgs, posterArgs, probeArgs, remuxArgs } from './args.js';
import { ProgressParser, type FfmpegProgress } from './progress.js';
import { FfmpegError, runFfmpeg } from './process.js';
import { probeMedia, readProbe } from './probe.js';
import { makeTestMedia } from './test-media.js';

describe('ffmpeg argv builders', () => {
  it('remux copies streams into a faststart MP4 and reports progress on stdout', () => {
    const a = remuxArgs('/in/a b.flv', '/out/x.mp4');
    assert.deepEqual(a.slice(a.indexOf('-i'), a.indexOf('-i') + 2), ['-i', '/in/a b.flv']);
    for (const pair of [['-c', 'copy'], ['-movflags', '+faststart'], ['-progress', 'pipe:1'], ['-f', 'mp4']]) {
      const i = a.indexOf(pair[0]!);
      assert.ok(i >= 0 && a[i + 1] === pair[1], `${pair.join(' ')} in ${a.join(' ')}`);
    }
    assert.equal(a.at(-1), '/out/x.mp4');
  });
  it('poster and clip seek before the input (keyframe-aligned) with millisecond times', () => {
    const p = posterArgs('in.mp4', 'p.jpg', 2);
    assert.ok(p.indexOf('-ss') < p.indexOf('-i'));
    assert.equal(p[p.indexOf('-ss') + 1], '2.000');
    const c = clipArgs('in.mp4', 'c.mp4', 1.5, 0.0000001);
    assert.equal(c[c.indexOf('-ss') + 1], '1.500');
    assert.equal(c[c.indexOf('-t') + 1], '0.000');
    assert.ok(c.indexOf('-ss') < c.indexOf('-i') && c.indexOf('-t') > c.indexOf('-i'));
    assert.throws(() => clipArgs('a', 'b', -1, 1), TypeError);
    assert.throws(() => clipArgs('a', 'b', Number.NaN, 1), TypeError);
  });
  it('probe asks for JSON format and streams', () => {
    assert.deepEqual(probeArgs('f').slice(-6), ['error', '-print_format', 'json', '-show_format', '-show_streams', 'f']);
  });
});

describe('ffmpeg -progress parser', () => {
  it('turns blocks into progress, across arbitrary chunk splits', () => {
    const text = 'frame=10\nfps=0.0\nout_time_us=400000\nout_time_ms=400000\ntotal_size=48\nspeed=N/A\nprogress=continue\n'
      + 'frame=250\nout_time_us=10000000\ntotal_size=1048576\nspeed= 812x\nprogress=end\n';
    for (const step of [1, 7, text.length]) {
      const seen: FfmpegProgress[] = [];
      const p = new ProgressParser((x) => seen.push(x));
      for (let i = 0; i < text.length; i += step) p.feed(text.slice(i, i + step));
      assert.deepEqual(seen, [
        { outTimeMs: 400, totalSize: 48, speed: null, frame: 10, end: false },
        { outTimeMs: 10_000, totalSize: 1_048_576, speed: 812, frame: 250, end: true },
      ]);
    }
  });
  it('reads N/A and negative out_time as 0 and ignores junk lines', () => {
    const seen: FfmpegProgress[] = [];
    const p = new ProgressParser((x) => seen.push(x));
    p.feed('garbage\n=x\nout_time_us=-9223372036854775807\ntotal_size=N/A\nprogress=continue\n');
    assert.deepEqual(seen, [{ outTimeMs: 0, totalSize: 0, speed: null, frame: null, end: false }]);
  });
});

describe('ffprobe reader', () => {
  it('takes the first video and audio stream and falls back to stream durations', () => {
    const p = readProbe({
      format: { format_name: 'flv', size: '1000', bit_rate: 'N/A' },
      streams: [{ codec_type: 'video', codec_name: 'h264', width: 1280, height: 720, avg_frame_rate: '30000/1001', duration: '4.5' }, { codec_type: 'audio', codec_name: 'aac', sample_rate: '44100', channels: 2, duration: '4.6' }],
    });
    assert.deepEqual(p, { format: 'flv', durationMs: 4600, size: 1000, bitRate: null, video: { codec: 'h264', width: 1280, height: 720, fps: 29.97 }, audio: { codec: 'aac', sampleRate: 44100, channels: 2 } });
    assert.deepEqual(readProbe({}), { format: 'unknown', durationMs: 0, size: 0, bitRate: null, video: null, audio: null });
  });
});

describe('ffmpeg driver on real media', { skip: missingTool('ffmpeg') || missingTool('ffprobe') }, () => {
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'onair-ffmpeg-'));
    await makeTestMedia(join(dir, 'in.flv'), { seconds: 4, gopSeconds: 1 });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('remuxes FLV to a faststart MP4 that ffprobe reads, with progress to the end', async () => {
    const seen: FfmpegProgress[] = [];
    await runFfmpeg(remuxArgs(join(dir, 'in.flv'), join(dir, 'out.mp4')), { onProgress: (p) => seen.push(p), timeoutMs: 60_000 });
    assert.ok(seen.at(-1)?.end, 'a last progress block');
    assert.ok(Math.abs(seen.at(-1)!.outTimeMs - 4000) < 200, `out time ${seen.at(-1)!.outTimeMs}`);
    const probe = await probeMedia(join(dir, 'out.mp4'));
    assert.match(probe.format, /mp4/);
    assert.equal(probe.video?.codec, 'h264');
    assert.equal(probe.video?.width, 320);
    assert.equal(probe.audio?.codec, 'aac');
    assert.ok(Math.abs(probe.durationMs - 4000) < 200, `duration ${probe.durationMs}`);
    assert.equal(probe.size, statSync(join(dir, 'out.mp4')).size);
    // +faststart: the index (moov) comes before the media data (mdat).
    const head = readFileSync(join(dir, 'out.mp4')).subarray(0, 4096).toString('latin1');
    assert.ok(head.indexOf('moov') >= 0 && (head.indexOf('mdat') < 0 || head.indexOf('moov') < head.indexOf('mdat')), 'moov before mdat');
  });

  it('makes a JPEG poster', async () => {
    await runFfmpeg(posterArgs(join(dir, 'in.flv'), join(dir, 'p.jpg'), 1));
    const jpg = readFileSync(join(dir, 'p.jpg'));
    assert.deepEqual([...jpg.subarray(0, 3)], [0xff, 0xd8, 0xff]);
    const probe = await probeMedia(join(dir, 'p.jpg'));
    assert.equal(probe.video?.width, 320);
  });

  it('cuts a clip without re-encoding, starting on a keyframe', async () => {
    await runFfmpeg(clipArgs(join(dir, 'in.flv'), join(dir, 'c.mp4'), 1.5, 2));
    const probe = await probeMedia(join(dir, 'c.mp4'));
    // Keyframes every second: the cut starts at 1 s (the keyframe before 1.5), so about 2-2.5 s.
    assert.ok(probe.durationMs >= 1900 && probe.durationMs <= 2600, `clip duration ${probe.durationMs}`);
  });

  it('fails with ffmpeg\'s own reason on a corrupt file, and can be aborted', async () => {
    writeFileSync(join(dir, 'bad.flv'), Buffer.concat([Buffer.from('FLV\x01\x05\0\0\0\x09', 'latin1'), Buffer.alloc(2000, 0x41)]));
    const err = await runFfmpeg(remuxArgs(join(dir, 'bad.flv'), join(dir, 'bad.mp4'))).then(() => null, (e: unknown) => e);
    assert.ok(err instanceof FfmpegError, String(err));
    assert.equal(err.code, 'ffmpeg_failed');
    assert.ok(err.stderr.length > 0);
    await assert.rejects(probeMedia(join(dir, 'missing.flv')), FfmpegError);
    const ac = new AbortController();
    const run = runFfmpeg(['-hide_banner', '-nostdin', '-f', 'lavfi', '-i', 'testsrc2', '-f', 'null', '-'], { signal: ac.signal });
    setTimeout(() => ac.abort(), 200);
    await assert.rejects(run, (e: unknown) => e instanceof FfmpegError && e.code === 'ffmpeg_aborted');
    await assert.rejects(runFfmpeg(['-version'], { binary: '/nonexistent/ffmpeg' }), (e: unknown) => e instanceof FfmpegError && e.code === 'ffmpeg_missing');
  });
});
