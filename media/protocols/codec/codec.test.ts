import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { missingTool } from '../../../core/testing/tools.js';
import { FlvParser } from '../flv/flv-parser.js';
import { isSequenceHeader } from '../flv/flv-tag.js';
import { videoInfoFromSequenceHeader, audioInfoFromTag, fpsFromMetadata } from './codec-info.js';
import { parseHevcSps } from './hevc-sps.js';
import { parseH264Sps } from './h264-sps.js';
import { parseAudioSpecificConfig } from './aac.js';
import { CodecParseError } from './bit-reader.js';

const ffmpeg = (args: string[]) => {
  const res = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', ...args], { maxBuffer: 64 << 20, timeout: 30_000 });
  assert.equal(res.status, 0, res.stderr?.toString());
  return res.stdout;
};

/** Annex B NAL units of a raw H.264/HEVC stream. */
function nalUnits(stream: Buffer): Buffer[] {
  const starts: number[] = [];
  for (let i = 0; i + 3 <= stream.length; i++) {
    if (stream[i] === 0 && stream[i + 1] === 0 && stream[i + 2] === 1) {
      starts.push(i + 3);
      i += 2;
    }
  }
  return starts.map((s, k) => {
    let end = k + 1 < starts.length ? starts[k + 1]! - 3 : stream.length;
    while (end > s && stream[end - 1] === 0) end--;
    return stream.subarray(s, end);
  });
}

describe('codec info', () => {
  for (const [w, h, pix] of [[640, 360, 'yuv420p'], [1280, 720, 'yuv420p'], [854, 480, 'yuv444p'], [320, 242, 'yuv420p']] as const) {
    it(`reads ${w}x${h} ${pix} H.264 and AAC from an ffmpeg FLV`, { skip: missingTool('ffmpeg') }, () => {
      const flv = ffmpeg([
        '-f', 'lavfi', '-i', `testsrc2=size=${w}x${h}:rate=25`, '-f', 'lavfi', '-i', 'sine=sample_rate=48000',
        '-ac', '2', '-t', '0.5', '-pix_fmt', pix, '-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'aac', '-f', 'flv', '-',
      ]);
      const tags = new FlvParser().push(flv);
      const vsh = tags.find((t) => t.type === 9 && isSequenceHeader(9, t.body))!;
      const ash = tags.find((t) => t.type === 8 && isSequenceHeader(8, t.body))!;
      assert.deepEqual(videoInfoFromSequenceHeader(vsh.body), { codec: 'H264', width: w, height: h });
      assert.deepEqual(audioInfoFromTag(ash.body), { codec: 'AAC', sampleRate: 48000, channels: 2 });
    });
  }

  it('reads the size of an HEVC SPS from libx265 output', { skip: missingTool('ffmpeg') }, () => {
    const raw = ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=25', '-frames:v', '1', '-c:v', 'libx265', '-x265-params', 'log-level=none', '-f', 'hevc', '-']);
    const sps = nalUnits(raw).find((n) => ((n[0]! >> 1) & 0x3f) === 33)!;
    assert.deepEqual(
      { width: parseHevcSps(sps).width, height: parseHevcSps(sps).height },
      { width: 1280, height: 720 },
    );
  });

  it('parses AudioSpecificConfig tables', () => {
    assert.deepEqual(parseAudioSpecificConfig(Buffer.from([0x12, 0x10])), { objectType: 2, sampleRate: 44100, channels: 2 });
    assert.deepEqual(parseAudioSpecificConfig(Buffer.from([0x11, 0x88])), { objectType: 2, sampleRate: 48000, channels: 1 });
    assert.throws(() => parseAudioSpecificConfig(Buffer.from([0x17, 0x00])), CodecParseError);
  });

  it('reads MP3 rate and channels from the FLV audio header', () => {
    assert.deepEqual(audioInfoFromTag(Buffer.from([0x2f, 0xff])), { codec: 'MP3', sampleRate: 44100, channels: 2 });
  });

  it('reads fps from metadata', () => {
    assert.equal(fpsFromMetadata({ framerate: 29.97 }), 29.97);
    assert.equal(fpsFromMetadata({ videoframerate: 30 }), 30);
    assert.equal(fpsFromMetadata({ framerate: 'x' }), 0);
  });

  it('returns undefined (never throws) for garbage sequence headers', () => {
    for (let i = 0; i < 3000; i++) {
      const body = randomBytes(2 + (i % 80));
      body[0] = i % 2 ? 0x17 : 0x1c;
      body[1] = 0;
      const v = videoInfoFromSequenceHeader(body);
      assert.ok(v === undefined || typeof v.codec === 'string');
      assert.doesNotThrow(() => audioInfoFromTag(Buffer.concat([Buffer.from([0xaf, 0]), randomBytes(i % 5)])));
      try {
        parseH264Sps(Buffer.concat([Buffer.from([0x67]), randomBytes(3 + (i % 40))]));
      } catch (err) {
        assert.ok(err instanceof CodecParseError, String(err));
      }
    }
  });
});
