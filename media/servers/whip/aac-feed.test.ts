/**
 * Opus -> AAC of a WHIP publisher: real Opus RTP from ffmpeg (libopus) goes through the Ogg writer
 * into AacFeed's ffmpeg; AAC comes back as FLV audio with a sequence header first and timestamps
 * that follow the RTP clock.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { missingTool } from '../../../core/testing/tools.js';
import { silentLogger } from '../../../core/logging/logger.js';
import { AacFeed, AAC_LC_48K_STEREO_HEADER } from './aac-feed.js';
import { oggCrc, opusPacketSamples } from '../../protocols/webrtc/ogg-opus.js';
import { until } from '../../engine-test-kit.js';

describe('WHIP audio: Opus -> AAC', () => {
  it('Ogg CRC and Opus packet durations', () => {
    // Ogg's CRC is CRC-32/BZIP2's polynomial without its initial and final inversion (0x89a1897f for "123456789").
    assert.equal(oggCrc(Buffer.from('123456789')), 0x89a1897f);
    assert.equal(opusPacketSamples(Buffer.from([0xfc])), 960); // CELT FB 20 ms, one frame
    assert.equal(opusPacketSamples(Buffer.from([0x79])), 960 * 2); // hybrid 20 ms (config 15), code 1: two frames
    assert.equal(opusPacketSamples(Buffer.from([0x13, 0x03])), 1920 * 3); // SILK 40 ms, code 3, three frames
  });

  it('turns Opus RTP payloads into AAC FLV tags, sequence header first', { skip: missingTool('ffmpeg') }, async () => {
    const udp = createSocket('udp4');
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
    const got: { body: Buffer; ts: number }[] = [];
    const feed = new AacFeed('ffmpeg', silentLogger(), (body, ts) => got.push({ body, ts }));
    udp.on('message', (msg) => {
      if ((msg[1]! & 0x7f) >= 72 && (msg[1]! & 0x7f) <= 76) return;
      feed.push(msg.subarray(12 + (msg[0]! & 0x0f) * 4), msg.readUInt32BE(4));
    });
    const src = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', '3',
      '-c:a', 'libopus', '-b:a', '64k', '-ar', '48000', '-ac', '2', '-f', 'rtp', `rtp://127.0.0.1:${udp.address().port}`], { stdio: 'ignore' });
    try {
      assert.ok(await until(() => got.length >= 50, 15_000), `aac tags: ${got.length}`);
      assert.deepEqual(got[0]!.body.subarray(0, 4), AAC_LC_48K_STEREO_HEADER, 'AAC-LC 48 kHz stereo');
      const frames = got.slice(1);
      assert.ok(frames.every((f) => f.body[0] === 0xaf && f.body[1] === 1));
      const span = frames.at(-1)!.ts - frames[0]!.ts;
      const expected = ((frames.length - 1) * 1024 * 1000) / 48000;
      assert.ok(Math.abs(span - expected) < 50, `span ${span} ms for ${frames.length} frames (${expected})`);
    } finally {
      src.kill('SIGKILL');
      feed.stop();
      udp.close();
    }
  });
});
