/**
 * A publish whose media never flows is not live: ffmpeg connects and publishes with the room's key,
 * then fails to put HEVC in FLV and leaves. The room must never show as live, no play token is
 * issued, and a following H.264 publish goes live as usual. Through the whole stack (startOnair).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { missingTool } from '../../core/testing/tools.js';
import type { MediaEvents } from '../../core/media/media-contract.js';
import { publish, startStack, until, type Stack } from './onair-stack.js';

const skip = missingTool('ffmpeg');

describe('a publish that sends no media', { skip }, () => {
  let stack: Stack;
  const seen: string[] = [];
  before(async () => {
    stack = await startStack();
    for (const name of ['publish.started', 'publish.ended'] as const) {
      stack.engine.on(name, (e: MediaEvents[typeof name]) => seen.push(`${name} ${e.streamName}`));
    }
  });
  after(() => stack?.close());

  it('never makes the room live (ffmpeg failing HEVC-in-FLV after publish), and H.264 then goes live', async () => {
    const anchor = await stack.user('anchor');
    const room = (await stack.call('POST', '/rooms', { title: 'hevc' }, anchor.token)).body as { id: string; push_url: string };
    const url = stack.fixPort(room.push_url);
    const hevc = spawn('ffmpeg', [
      '-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30', '-t', '3',
      '-c:v', 'libx265', '-preset', 'ultrafast', '-f', 'flv', url,
    ], { stdio: 'ignore' });
    const code = await new Promise((r) => hevc.once('exit', r));
    assert.notEqual(code, 0, 'ffmpeg cannot put HEVC in FLV');
    await until('publish.ended', () => seen.includes(`publish.ended ${room.id}`), 5000);
    const polls: boolean[] = [];
    for (let i = 0; i < 5; i++) {
      polls.push((await stack.call('GET', `/rooms/${room.id}`)).body.is_live);
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.deepEqual(polls, [false, false, false, false, false], 'the room never shows as live');
    assert.equal((await stack.call('GET', `/rooms/${room.id}/play-token`)).status, 409);
    assert.ok(!seen.includes(`publish.started ${room.id}`));

    const h264 = publish(url);
    try {
      await until('live', async () => (await stack.call('GET', `/rooms/${room.id}`)).body.is_live === true, 15_000);
    } finally {
      h264.kill('SIGKILL');
    }
  });
});
