import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../core/config/load.js';
import { silentLogger } from '../../core/logging/logger.js';
import { missingTool } from '../../core/testing/tools.js';
import type { MediaEventName, MediaEvents, RecordDone } from '../../core/media/media-contract.js';
import type { MediaPluginContext } from '../plugin.js';
import type { MediaPacket } from '../stream/media-packet.js';
import { FlvParser } from '../protocols/flv/flv-parser.js';
import { FakeRegistry, FakeStream, ffprobe, makeTestFlv, readFlvPackets } from '../../tests/e2e/media-fixtures.js';
import { Recorder } from './recorder.js';

const noFfmpeg = missingTool('ffmpeg');

describe('Recorder', { skip: noFfmpeg }, () => {
  let dir: string;
  let packets: MediaPacket[];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'onair-rec-'));
    packets = readFlvPackets(makeTestFlv(dir, { seconds: 4 }));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function setup(recordAll = false, media: Record<string, unknown> = {}) {
    const config = loadConfig({}, { dataDir: join(dir, 'data'), media: { record: recordAll, ...media } });
    const streams = new FakeRegistry();
    const events: { name: MediaEventName; payload: unknown; fileSizeAtEmit?: number }[] = [];
    const ctx: MediaPluginContext = {
      config, log: silentLogger(), streams,
      hooks: { authorizePublish: async () => ({ allow: false, reason: 'unused' }), authorizePlay: async () => ({ allow: false, reason: 'unused' }) },
      emit: <K extends MediaEventName>(name: K, payload: MediaEvents[K]) => {
        const path = (payload as Partial<RecordDone>).path;
        events.push({ name, payload, fileSizeAtEmit: path ? statSync(path).size : undefined });
      },
    };
    const recorder = new Recorder();
    recorder.start(ctx);
    return { config, streams, events, recorder };
  }

  it('writes the session to an FLV file, closes it, then emits record.done', async () => {
    const { config, streams, events, recorder } = setup();
    const stream = new FakeStream('1001', '777', true);
    streams.publish(stream);
    for (const p of packets) stream.feed(p);
    streams.unpublish(stream);
    await recorder.close(); // waits for the pending file close and record.done
    const path = join(config.dataDir, 'recordings', '1001', '777.flv');
    assert.equal(events.length, 1);
    const done = events[0]!.payload as RecordDone;
    assert.equal(events[0]!.name, 'record.done');
    assert.equal(done.path, path);
    assert.equal(done.size, statSync(path).size);
    assert.equal(events[0]!.fileSizeAtEmit, done.size, 'the file was complete when record.done fired');
    assert.ok(done.durationMs > 3000 && done.durationMs < 4500, `duration ${done.durationMs}`);
    const streamsSeen = await ffprobe(path);
    assert.deepEqual(streamsSeen.map((s) => s.codec_name).sort(), ['aac', 'h264']);
    assert.equal(streamsSeen.find((s) => s.codec_type === 'video')?.width, 320);
    // Only audio, video and onMetaData; media starts at 0.
    const tags = new FlvParser().push(readFileSync(path));
    assert.ok(tags.every((t) => t.type === 8 || t.type === 9 || t.type === 18));
    assert.ok(tags.filter((t) => t.type === 18).length <= 1);
    assert.equal(tags.find((t) => t.type === 9)?.timestamp, 0);
  });

  it('rebases timestamps of a session that starts mid-stream to 0', async () => {
    const { config, streams, events, recorder } = setup();
    const stream = new FakeStream('1002', '778', true);
    streams.publish(stream);
    // Sequence headers first, then media from the second keyframe on (stamps ~1000 ms).
    const headers = packets.filter((p) => p.isSequenceHeader);
    const keyframes = packets.filter((p) => p.isKeyframe && !p.isSequenceHeader);
    const from = packets.indexOf(keyframes[1]!);
    for (const p of [...headers, ...packets.slice(from)]) stream.feed(p);
    streams.unpublish(stream);
    await recorder.close();
    const tags = new FlvParser().push(readFileSync(join(config.dataDir, 'recordings', '1002', '778.flv')));
    const media = tags.filter((t) => t.type !== 18);
    assert.ok(keyframes[1]!.timestamp >= 900);
    const firstFrame = media.find((t) => t.type === 9 && t.body[1] === 1); // AVC NALU, not a header
    assert.equal(firstFrame?.timestamp, 0);
    assert.ok(Math.max(...media.map((t) => t.timestamp)) < 4000 - 900);
    assert.equal(events.length, 1);
  });

  it('records nothing when neither the publish decision nor the config asks for it', async () => {
    const { config, streams, events, recorder } = setup(false);
    const stream = new FakeStream('1003', '779', false);
    streams.publish(stream);
    for (const p of packets.slice(0, 50)) stream.feed(p);
    streams.unpublish(stream);
    await recorder.close();
    assert.equal(existsSync(join(config.dataDir, 'recordings', '1003')), false);
    assert.equal(events.length, 0);
  });

  it('records every stream when config.media.record is on, and refuses unsafe names', async () => {
    const { config, streams, events, recorder } = setup(true);
    const ok = new FakeStream('1004', '780', false);
    const bad = new FakeStream('../etc', '781', false);
    streams.publish(ok);
    streams.publish(bad);
    for (const p of packets.slice(0, 100)) {
      ok.feed(p);
      bad.feed(p);
    }
    streams.unpublish(ok);
    streams.unpublish(bad);
    await recorder.close();
    assert.ok(existsSync(join(config.dataDir, 'recordings', '1004', '780.flv')));
    assert.equal(existsSync(join(config.dataDir, 'etc')), false);
    assert.equal(events.length, 1);
  });

  it('cuts a long show into segments on keyframes (ONAIR_RECORD_SEGMENT), each a playable file with its own record.done', async () => {
    const { config, streams, events, recorder } = setup(true, { recordSegment: 1000 });
    const stream = new FakeStream('1005', '782', true);
    streams.publish(stream);
    for (const p of packets) stream.feed(p);
    streams.unpublish(stream);
    await recorder.close();
    const done = events.map((e) => e.payload as RecordDone);
    assert.ok(done.length >= 2, `segments: ${done.length}`);
    assert.deepEqual(done.map((d) => d.segment), done.map((_, i) => i));
    for (const [i, d] of done.entries()) {
      assert.equal(d.path, join(config.dataDir, 'recordings', '1005', `782-${String(i).padStart(4, '0')}.flv`));
      assert.equal(d.size, statSync(d.path).size);
      const seen = await ffprobe(d.path);
      assert.deepEqual(seen.map((s) => s.codec_name).sort(), ['aac', 'h264'], `segment ${i} decodable on its own`);
      const tags = new FlvParser().push(readFileSync(d.path));
      const firstVideo = tags.find((t) => t.type === 9 && t.body[1] === 1);
      assert.equal(firstVideo?.body[0]! >> 4, 1, `segment ${i} starts on a keyframe`);
    }
    const total = done.reduce((a, d) => a + d.durationMs, 0);
    assert.ok(total > 3000 && total < 4800, `segments add up to the show: ${total} ms`);
  });
});
