/**
 * Recording through the real engine: ffmpeg publishes, the publisher is killed, and the FLV file
 * is complete (ffprobe reads it) when record.done fires; a refused publish leaves no file even
 * with recording on for every stream.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { missingTool } from '../../core/testing/tools.js';
import type { MediaEvents } from '../../core/media/media-contract.js';
import { ffprobe, publishWithFfmpeg, startTestEngine, waitFor, type TestEngine } from './media-fixtures.js';

const skip = missingTool('ffmpeg') || missingTool('ffprobe');
const exited = (p: ChildProcess) => new Promise<number | null>((r) => (p.exitCode !== null || p.signalCode !== null ? r(p.exitCode) : p.once('exit', (c) => r(c))));

describe('recording through the engine', { skip }, () => {
  let media: TestEngine;
  const children: ChildProcess[] = [];
  before(async () => {
    media = await startTestEngine({ record: true, hls: false });
  });
  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    await media?.close();
  });

  it('leaves no file for a refused publish, even with recording on for every stream', async () => {
    const ff = publishWithFfmpeg(`${media.rtmpBase}/not-a-key`, { seconds: 3 });
    children.push(ff);
    assert.notEqual(await exited(ff), 0);
    const dir = join(media.config.dataDir, 'recordings');
    assert.equal(existsSync(dir) && readdirSync(dir).length > 0, false);
    assert.equal(media.events.filter((e) => e.name === 'record.done' || e.name === 'publish.started').length, 0);
  });

  it('closes the file before record.done when the publisher dies', async () => {
    const ff = publishWithFfmpeg(`${media.rtmpBase}/sk_rec_6001`, { seconds: 60, width: 480, height: 270 });
    children.push(ff);
    const started = await waitFor('publish.started', () => media.events.find((e) => e.name === 'publish.started')?.payload as MediaEvents['publish.started'] | undefined);
    const path = join(media.config.dataDir, 'recordings', '6001', `${started.publisherId}.flv`);
    await waitFor('3 s of recording', () => existsSync(path) && statSync(path).size > 100_000, 15_000);
    await new Promise((r) => setTimeout(r, 2000));
    let sizeAtEvent = -1;
    media.engine.once('record.done', (done) => (sizeAtEvent = statSync(done.path).size));
    ff.kill('SIGKILL');
    const done = await waitFor('record.done', () => media.events.find((e) => e.name === 'record.done')?.payload as MediaEvents['record.done'] | undefined, 10_000);
    const ended = media.events.find((e) => e.name === 'publish.ended')!.payload as MediaEvents['publish.ended'];
    assert.equal(done.path, path);
    assert.equal(done.streamName, '6001');
    assert.equal(done.publisherId, started.publisherId);
    assert.equal(done.size, statSync(path).size);
    assert.equal(sizeAtEvent, done.size, 'the file was complete when record.done fired');
    assert.ok(done.endedAt >= ended.at - 5, 'record.done after the publish ended');
    assert.ok(done.durationMs > 2500 && done.durationMs < 60_000, `duration ${done.durationMs}`);
    const streams = await ffprobe(path);
    assert.deepEqual(streams.map((s) => s.codec_name).sort(), ['aac', 'h264']);
    assert.deepEqual(streams.filter((s) => s.codec_type === 'video').map((s) => [s.width, s.height]), [[480, 270]]);
  });
});
