import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../../core/logging/logger.js';
import { missingTool } from '../../../core/testing/tools.js';
import { createMediaPacket } from '../../stream/packet.js';
import type { MediaPacket } from '../../stream/media-packet.js';
import { readFlvPackets } from '../../../tests/e2e/media-fixtures.js';
import { MAX_SEGMENT_BYTES, TsSegmenter } from './ts-segmenter.js';

const skip = missingTool('ffmpeg') || missingTool('ffprobe');

/** An FLV made by ffmpeg: H.264 with B-frames (PTS != DTS), a keyframe every second, AAC. */
function makeFlv(dir: string, name: string, o: { seconds: number; size: string; audioOnly?: boolean }): string {
  const path = join(dir, name);
  const video = o.audioOnly ? ['-vn'] : ['-c:v', 'libx264', '-preset', 'veryfast', '-g', '30', '-bf', '2', '-pix_fmt', 'yuv420p'];
  const res = spawnSync('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=${o.size}:rate=30`, '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100',
    '-t', String(o.seconds), ...video, '-c:a', 'aac', '-b:a', '64k', '-f', 'flv', path,
  ], { timeout: 120_000 });
  assert.equal(res.status, 0, res.stderr?.toString());
  return path;
}

function probe(path: string): { streams: { codec_name: string; codec_type: string }[]; format: { duration: string } } {
  const res = spawnSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,codec_type:format=duration', '-of', 'json', path], { timeout: 60_000 });
  assert.equal(res.status, 0, res.stderr?.toString());
  return JSON.parse(res.stdout.toString()) as never;
}

/**
 * ffmpeg decodes the whole live playlist from its first segment (it reloads a live playlist a few
 * times for new segments before it stops); returns its error output (empty when clean).
 */
function playAll(playlist: string): string {
  const res = spawnSync('ffmpeg', [
    '-hide_banner', '-v', 'error', '-live_start_index', '0', '-m3u8_hold_counters', '2', '-i', playlist, '-f', 'null', '-',
  ], { timeout: 120_000 });
  assert.equal(res.status, 0, res.stderr?.toString());
  return res.stderr.toString();
}

function playlistEntries(text: string): { name: string; seconds: number; discontinuity: boolean }[] {
  const out: { name: string; seconds: number; discontinuity: boolean }[] = [];
  let seconds = 0;
  let discontinuity = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('#EXTINF:')) seconds = Number(line.slice(8, line.indexOf(',')));
    else if (line === '#EXT-X-DISCONTINUITY') discontinuity = true;
    else if (line && !line.startsWith('#')) {
      out.push({ name: line, seconds, discontinuity });
      discontinuity = false;
    }
  }
  return out;
}

describe('TsSegmenter (in-process HLS)', { skip }, () => {
  let dir: string;
  let avc: MediaPacket[];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'onair-ts-'));
    avc = readFlvPackets(makeFlv(dir, 'a.flv', { seconds: 12, size: '320x240' }));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function run(name: string, packets: MediaPacket[], listSize: number): { out: string; segmenter: TsSegmenter } {
    const out = join(dir, name);
    mkdirSync(out);
    // Fed at once rather than in real time: let every finished segment wait for the disk.
    const segmenter = new TsSegmenter({ id: name, dir: out, segmentMs: 2000, listSize, log: silentLogger(), maxPendingWrites: 100 });
    for (const p of packets) segmenter.onPacket(p);
    return { out, segmenter };
  }

  it('writes keyframe-cut MPEG-TS segments that ffprobe reads and ffmpeg plays end to end, and slides the window', async () => {
    const { out, segmenter } = run('live', avc, 2);
    await segmenter.close();
    const text = readFileSync(join(out, 'index.m3u8'), 'utf8');
    assert.equal(segmenter.playlistText, text, 'the playlist served from memory is the one on disk');
    assert.match(text, /^#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:3\n/);
    const entries = playlistEntries(text);
    assert.deepEqual(entries.map((e) => e.name), ['seg-3.ts', 'seg-4.ts']);
    assert.equal(segmenter.segmentsWritten, 5, '12 s cut every 2 s; the open last segment is not listed');
    assert.ok(!existsSync(join(out, 'seg-0.ts')), 'old segments deleted');
    assert.ok(existsSync(join(out, 'seg-1.ts')) && existsSync(join(out, 'seg-2.ts')), 'recently dropped ones kept a while');
    for (const name of ['seg-1.ts', 'seg-2.ts', 'seg-3.ts', 'seg-4.ts']) {
      const p = probe(join(out, name));
      assert.deepEqual(p.streams.map((s) => `${s.codec_type}:${s.codec_name}`).sort(), ['audio:aac', 'video:h264'], name);
      assert.ok(Math.abs(Number(p.format.duration) - 2) < 0.25, `${name} lasts ${p.format.duration}`);
      assert.equal(readFileSync(join(out, name)).length % 188, 0);
    }
    for (const e of entries) assert.ok(Math.abs(e.seconds - 2) < 0.05, `EXTINF ${e.seconds}`);
    assert.equal(playAll(join(out, 'index.m3u8')), '');
  });

  it('marks a new decoder configuration (the publisher restarted its encoder) as a discontinuity', async () => {
    const small = readFlvPackets(makeFlv(dir, 'b.flv', { seconds: 6, size: '160x120' }));
    const shift = 6000;
    const first = avc.filter((p) => p.timestamp < 6000);
    const second = small.map((p) => createMediaPacket(p.type, p.timestamp + shift, p.body));
    const { out, segmenter } = run('republish', [...first, ...second], 10);
    await segmenter.close();
    const entries = playlistEntries(readFileSync(join(out, 'index.m3u8'), 'utf8'));
    assert.deepEqual(entries.map((e) => e.discontinuity), [false, false, false, true, false]);
    assert.equal(playAll(join(out, 'index.m3u8')), '');
  });

  it('segments an audio-only stream on time', async () => {
    const audio = readFlvPackets(makeFlv(dir, 'c.flv', { seconds: 7, size: '160x120', audioOnly: true }));
    const { out, segmenter } = run('audio', audio, 6);
    await segmenter.close();
    const entries = playlistEntries(readFileSync(join(out, 'index.m3u8'), 'utf8'));
    assert.equal(entries.length, 3);
    const p = probe(join(out, 'seg-0.ts'));
    assert.deepEqual(p.streams.map((s) => s.codec_name), ['aac']);
    assert.equal(playAll(join(out, 'index.m3u8')), '');
  });

  it('does not hold a segment in memory without end when the keyframes stop: drops it past the cap, resumes at the next keyframe', async () => {
    // A publisher (broken encoder, or on purpose) sends one keyframe and then only P-frames: a
    // segment is cut at a keyframe, so before the cap it grew in memory for as long as that lasted.
    const header = avc.find((p) => p.type === 9 && p.isSequenceHeader)!;
    const key = avc.find((p) => p.type === 9 && p.isKeyframe && !p.isSequenceHeader)!;
    const pFrame = (ts: number) => {
      const nal = Buffer.alloc(1024 * 1024, 0x5a);
      nal[0] = 0x41; // non-IDR slice
      const len = Buffer.alloc(4);
      len.writeUInt32BE(nal.length);
      return createMediaPacket(9, ts, Buffer.concat([Buffer.from([0x27, 0x01, 0, 0, 0]), len, nal]));
    };
    const out = join(dir, 'nokey');
    mkdirSync(out);
    const segmenter = new TsSegmenter({ id: 'nokey', dir: out, segmentMs: 2000, listSize: 5, log: silentLogger(), maxPendingWrites: 100 });
    segmenter.onPacket(header);
    segmenter.onPacket(createMediaPacket(9, 0, key.body));
    let peak = 0;
    for (let i = 1; i <= 100; i++) {
      segmenter.onPacket(pFrame(i * 33));
      peak = Math.max(peak, segmenter.bufferedBytes);
    }
    assert.ok(peak <= MAX_SEGMENT_BYTES, `100 MB without a keyframe held ${peak} bytes in one segment`);
    // The encoder sends keyframes again: HLS goes on, after a discontinuity.
    for (let i = 0; i < 3; i++) {
      segmenter.onPacket(createMediaPacket(9, 4000 + i * 2500, key.body));
      segmenter.onPacket(pFrame(4000 + i * 2500 + 33));
    }
    await segmenter.close();
    const entries = playlistEntries(readFileSync(join(out, 'index.m3u8'), 'utf8'));
    assert.ok(entries.length >= 2, 'segments again once keyframes come back');
    assert.equal(entries[0]!.discontinuity, true);
  });
});
