import { describe, it, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Registry } from 'prom-client';
import { missingTool } from '../core/testing/tools.js';
import { waitFor } from '../core/testing/wait-for.js';
import { createLogger, silentLogger } from '../core/logging/logger.js';
import { makeTestMedia } from '../core/ffmpeg/test-media.js';
import { probeMedia } from '../core/ffmpeg/probe.js';
import { runCapture, runFfmpeg } from '../core/ffmpeg/process.js';
import { ReplayStore } from '../core/replays/replay.store.js';
import type { DomainEvents } from '../core/events/domain-events.js';
import { registerTranscoderMetrics } from './metrics.js';
import { TRANSCODER_GROUP, TranscoderWorker } from './worker.js';
import { transcoderStackSets, type TranscoderStack } from './testing/transcoder-stack.js';

const sets = transcoderStackSets();
after(() => Promise.all(sets.map((s) => s.close())));

export function recordingEvent(stack: TranscoderStack, file: string, over: Partial<DomainEvents['recording.finished']> = {}): DomainEvents['recording.finished'] {
  const size = existsSync(file) ? statSync(file).size : 0;
  return {
    eventId: `media:100:pub1:${file}`, at: Date.now(), roomId: '42', publisherId: 'pub1', sessionId: '7000000000000000001',
    file: { path: file }, format: 'flv', segment: 0, startedAt: Date.now() - 4000, endedAt: Date.now(), durationMs: 4000, size, ...over,
  };
}

function worker(stack: TranscoderStack, over: Partial<ConstructorParameters<typeof TranscoderWorker>[0]> = {}): TranscoderWorker {
  return new TranscoderWorker({
    bus: stack.bus, replays: new ReplayStore(stack.db), objects: stack.objects, log: process.env.DBG ? createLogger({ level: "debug" }) : silentLogger(),
    recordingsDir: stack.recordingsDir, workDir: join(stack.config.dataDir, 'transcoder-work'), keepSource: false,
    concurrency: 1, leaseMs: 30_000, maxAttempts: 2, backoffMs: 50, ffmpegTimeoutMs: 60_000, ...over,
  });
}

async function download(stack: TranscoderStack, key: string, file: string): Promise<void> {
  const body = await stack.objects.get(key);
  await pipeline(body.stream, createWriteStream(file));
}

for (const set of sets) {
  describe(`transcoder worker on ${set.name}`, { skip: missingTool('ffmpeg') || missingTool('ffprobe') }, () => {
    let stack: TranscoderStack;
    let scratch: string;
    let w: TranscoderWorker | undefined;
    beforeEach(async () => {
      stack = await set.make();
      scratch = mkdtempSync(join(tmpdir(), 'onair-scratch-'));
    });
    afterEach(async () => {
      await w?.stop();
      w = undefined;
      await stack.close();
      rmSync(scratch, { recursive: true, force: true });
    });

    it('turns a recording into a verified MP4 + poster, one replay row, record_url and replay.ready; a repeat changes nothing', async () => {
      const dir = join(stack.recordingsDir, '42');
      mkdirSync(dir, { recursive: true });
      const flv = join(dir, 'pub1.flv');
      await makeTestMedia(flv, { seconds: 4 });
      await stack.db.sequelize.query(
        `INSERT INTO live_streams (id, room_id, anchor_id, status, created_at, updated_at) VALUES ('7000000000000000001', 42, 1, 'ended', ?, ?)`,
        { replacements: [new Date(), new Date()] },
      );
      const ready: DomainEvents['replay.ready'][] = [];
      const watcher = stack.bus.consume('test-watcher', async (d) => { if (d.name === 'replay.ready') ready.push(d.payload); });
      const registry = new Registry();
      w = worker(stack, { metrics: registerTranscoderMetrics(registry) });
      await w.start();
      const ev = recordingEvent(stack, flv);
      await stack.bus.publish('recording.finished', ev, { key: '42' });
      await waitFor('replay.ready', () => ready.length >= 1, 60_000);

      const replays = new ReplayStore(stack.db);
      const [replay] = await replays.listByRoom('42', { limit: 10 });
      assert.ok(replay);
      const full = (await replays.get(replay.id))!;
      assert.equal(full.segments.length, 1);
      const seg = full.segments[0]!;
      assert.equal(seg.objectKey, 'replays/42/pub1/0000.mp4');
      assert.equal(seg.posterKey, 'replays/42/pub1/0000.jpg');
      assert.equal(full.sessionId, '7000000000000000001');
      assert.ok(Math.abs(full.durationMs - 4000) < 250, `duration ${full.durationMs}`);
      assert.equal(seg.videoCodec, 'h264');
      assert.equal(seg.audioCodec, 'aac');
      assert.deepEqual(ready[0], { ...ready[0]!, replayId: replay.id, roomId: '42', objectKey: seg.objectKey, posterKey: seg.posterKey, size: seg.size });

      // What a viewer would get: an MP4 ffprobe reads, the size the row says, and a JPEG poster.
      const mp4 = join(scratch, 'r.mp4');
      await download(stack, seg.objectKey, mp4);
      assert.equal(statSync(mp4).size, seg.size);
      const probe = await probeMedia(mp4);
      assert.match(probe.format, /mp4/);
      assert.equal(probe.video?.width, 320);
      const poster = await stack.objects.get(seg.posterKey!, { start: 0, end: 2 });
      const head: Buffer[] = [];
      for await (const c of poster.stream) head.push(c as Buffer);
      assert.deepEqual([...Buffer.concat(head)], [0xff, 0xd8, 0xff]);

      assert.equal((await stack.db.sequelize.query(`SELECT record_url FROM live_streams WHERE id = '7000000000000000001'`, { plain: true }) as { record_url: string }).record_url, `/api/v1/replays/${replay.id}`);
      assert.equal(existsSync(flv), false, 'the source is deleted once the upload is verified (default policy)');

      // The same event again (a re-delivered callback): still one row and one object of each.
      await stack.bus.publish('recording.finished', ev, { key: '42' });
      await waitFor('second replay.ready', () => ready.length >= 2, 60_000);
      assert.equal((await replays.get(replay.id))!.segments.length, 1);
      assert.equal((await replays.listByRoom('42', { limit: 10 })).length, 1);
      assert.deepEqual((await stack.objects.list('replays/')).items.map((i) => i.key), ['replays/42/pub1/0000.jpg', 'replays/42/pub1/0000.mp4']);
      assert.equal(ready[1]!.eventId, ready[0]!.eventId, 'replay.ready keeps its eventId');
      const text = await registry.metrics();
      assert.match(text, /onair_transcoder_jobs_total\{result="done"\} 1/);
      assert.match(text, /onair_transcoder_jobs_total\{result="duplicate"\} 1/);
      assert.match(text, /onair_transcoder_media_seconds_total 4/);
      await watcher.stop();
    });

    it('keeps the source with keepSource, and groups segments of one show into one replay', async () => {
      const dir = join(stack.recordingsDir, '43');
      mkdirSync(dir, { recursive: true });
      const files = [join(dir, 'p-0.flv'), join(dir, 'p-1.flv')];
      await makeTestMedia(files[0]!, { seconds: 3 });
      await makeTestMedia(files[1]!, { seconds: 2 });
      w = worker(stack, { keepSource: true });
      await w.start();
      for (const [i, f] of files.entries()) {
        await stack.bus.publish('recording.finished', recordingEvent(stack, f, { eventId: `seg-${i}`, roomId: '43', publisherId: 'p', segment: i }), { key: '43' });
      }
      const replays = new ReplayStore(stack.db);
      const replay = await waitFor('two segments', async () => {
        const [r] = await replays.listByRoom('43', { limit: 10 });
        return r && r.segmentCount === 2 ? r : null;
      }, 60_000);
      assert.ok(Math.abs(replay.durationMs - 5000) < 400, `duration ${replay.durationMs}`);
      assert.equal(replay.posterKey, 'replays/43/p/0000.jpg');
      assert.deepEqual((await replays.get(replay.id))!.segments.map((s) => s.objectKey), ['replays/43/p/0000.mp4', 'replays/43/p/0001.mp4']);
      assert.ok(files.every((f) => existsSync(f)), 'sources kept');
    });

    it('joins a show recorded in 3 segments into one MP4 (concat, -c copy) once its final segment is in: duration the sum, seekable across the boundaries', async () => {
      const dir = join(stack.recordingsDir, '45');
      mkdirSync(dir, { recursive: true });
      // As the recorder cuts a show: one encode, split on keyframes, each file's timestamps from 0.
      const whole = join(scratch, 'whole.flv');
      await makeTestMedia(whole, { seconds: 6, gopSeconds: 1 });
      await runFfmpeg(['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', '-i', whole, '-c', 'copy', '-f', 'segment', '-segment_time', '2',
        '-reset_timestamps', '1', '-segment_format', 'flv', join(dir, 'q-%04d.flv')], { timeoutMs: 60_000 });
      const files = [0, 1, 2].map((i) => join(dir, `q-${String(i).padStart(4, '0')}.flv`));
      assert.ok(files.every((f) => existsSync(f)), 'three segment files');
      const ready: DomainEvents['replay.ready'][] = [];
      const watcher = stack.bus.consume('test-watcher', async (d) => { if (d.name === 'replay.ready') ready.push(d.payload); });
      w = worker(stack, { concurrency: 2 });
      await w.start();
      // The last one first: the join waits until every segment is in, whichever job completes the set.
      for (const i of [2, 0, 1]) {
        await stack.bus.publish('recording.finished', recordingEvent(stack, files[i]!, { eventId: `show-${i}`, roomId: '45', publisherId: 'q', segment: i, ...(i === 2 ? { final: true } : {}) }), { key: '45' });
      }
      const replays = new ReplayStore(stack.db);
      const replay = await waitFor('the joined show', async () => {
        const [r] = await replays.listByRoom('45', { limit: 10 });
        return r?.joined ? r : null;
      }, 90_000);
      const full = (await replays.get(replay.id))!;
      assert.equal(full.segments.length, 3);
      assert.equal(full.lastSegment, 2);
      assert.equal(replay.joined!.objectKey, 'replays/45/q/show.mp4');
      const sum = full.segments.reduce((a, x) => a + x.durationMs, 0);

      const mp4 = join(scratch, 'show.mp4');
      await download(stack, replay.joined!.objectKey, mp4);
      assert.equal(statSync(mp4).size, replay.joined!.size);
      const probe = await probeMedia(mp4);
      assert.ok(Math.abs(probe.durationMs - sum) <= 100, `joined ${probe.durationMs} ms, segments sum ${sum} ms`);
      assert.ok(Math.abs(probe.durationMs - 6000) <= 150, `joined ${probe.durationMs} ms`);
      // Across each boundary the video timeline runs on (no gap, no step back), and a seek past it decodes.
      const pts = JSON.parse(await runCapture('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pts_time', '-of', 'json', mp4])) as { packets: { pts_time: string }[] };
      const times = pts.packets.map((x) => Number(x.pts_time)).sort((a, b) => a - b);
      for (let i = 1; i < times.length; i++) assert.ok(times[i]! - times[i - 1]! < 0.1, `gap at ${times[i - 1]} -> ${times[i]}`);
      assert.ok(times.at(-1)! > 5.8, `last frame at ${times.at(-1)}`);
      const frame = join(scratch, 'after-boundary.jpg');
      await runFfmpeg(['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', '-ss', '4.2', '-i', mp4, '-frames:v', '1', frame], { timeoutMs: 30_000 });
      assert.ok(statSync(frame).size > 0);
      await waitFor('replay.ready of the joined show', () => ready.some((r) => r.objectKey === 'replays/45/q/show.mp4'), 30_000);
      // The joined object verified, the per-segment MP4s are gone (ONAIR_REPLAY_KEEP_SEGMENTS=false); posters stay.
      assert.ok((await replays.get(replay.id))!.segmentsRemovedAt !== null, 'marked removed');
      assert.deepEqual((await stack.objects.list('replays/45/q/')).items.map((i) => i.key).filter((k) => k.endsWith('.mp4')), ['replays/45/q/show.mp4']);
      assert.ok((await stack.objects.list('replays/45/q/')).items.some((i) => i.key === 'replays/45/q/0000.jpg'), 'posters kept');

      // The final segment's event again: nothing new (one joined object, the same row).
      await stack.bus.publish('recording.finished', recordingEvent(stack, files[2]!, { eventId: 'show-2', roomId: '45', publisherId: 'q', segment: 2, final: true }), { key: '45' });
      await waitFor('the repeat handled', async () => (await stack.bus.listDead({ group: TRANSCODER_GROUP })).length === 0 && ready.filter((r) => r.eventId === ready.find((x) => x.objectKey.endsWith('0002.mp4'))?.eventId).length >= 2, 60_000);
      const again = (await replays.get(replay.id))!;
      assert.deepEqual(again.joined, full.joined);
      assert.deepEqual((await stack.objects.list('replays/45/q/')).items.map((i) => i.key).filter((k) => k.endsWith('.mp4')), ['replays/45/q/show.mp4']);
      await watcher.stop();
    });

    it('keeps the per-segment MP4s of a joined show with keepSegments (ONAIR_REPLAY_KEEP_SEGMENTS=true)', async () => {
      const dir = join(stack.recordingsDir, '46');
      mkdirSync(dir, { recursive: true });
      const whole = join(scratch, 'whole.flv');
      await makeTestMedia(whole, { seconds: 4, gopSeconds: 1 });
      await runFfmpeg(['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', '-i', whole, '-c', 'copy', '-f', 'segment', '-segment_time', '2',
        '-reset_timestamps', '1', '-segment_format', 'flv', join(dir, 'k-%04d.flv')], { timeoutMs: 60_000 });
      w = worker(stack, { keepSegments: true });
      await w.start();
      for (const i of [0, 1]) {
        await stack.bus.publish('recording.finished', recordingEvent(stack, join(dir, `k-000${i}.flv`), { eventId: `keep-${i}`, roomId: '46', publisherId: 'k', segment: i, ...(i === 1 ? { final: true } : {}) }), { key: '46' });
      }
      const replays = new ReplayStore(stack.db);
      const replay = await waitFor('the joined show', async () => {
        const [r] = await replays.listByRoom('46', { limit: 10 });
        return r?.joined ? r : null;
      }, 90_000);
      assert.equal(replay.segmentsRemovedAt, null);
      assert.deepEqual((await stack.objects.list('replays/46/k/')).items.map((i) => i.key).filter((k) => k.endsWith('.mp4')),
        ['replays/46/k/0000.mp4', 'replays/46/k/0001.mp4', 'replays/46/k/show.mp4']);
    });

    it('dead-letters a corrupt recording with ffmpeg\'s reason, storing nothing and keeping the file', async () => {
      const dir = join(stack.recordingsDir, '44');
      mkdirSync(dir, { recursive: true });
      const bad = join(dir, 'bad.flv');
      writeFileSync(bad, Buffer.concat([Buffer.from('FLV\x01\x05\0\0\0\x09', 'latin1'), Buffer.alloc(4096, 0x41)]));
      w = worker(stack, { maxAttempts: 2, backoffMs: 50 });
      await w.start();
      await stack.bus.publish('recording.finished', recordingEvent(stack, bad, { eventId: 'bad-1', roomId: '44' }), { key: '44' });
      const [dead] = await waitFor('a dead letter', async () => {
        const d = await stack.bus.listDead({ group: TRANSCODER_GROUP });
        return d.length ? d : null;
      }, 60_000);
      assert.equal(dead!.name, 'recording.finished');
      assert.equal(dead!.attempts, 2);
      assert.match(dead!.lastError, /ffmpeg|ffprobe|neither video nor audio/);
      assert.equal((await new ReplayStore(stack.db).listByRoom('44', { limit: 10 })).length, 0);
      assert.deepEqual((await stack.objects.list('')).items, []);
      assert.ok(existsSync(bad), 'a failed recording is kept for the operator');

      // The operator repairs the file and replays the dead letter: it becomes a replay after all.
      await makeTestMedia(bad, { seconds: 2 });
      assert.equal(await stack.bus.replayDead(dead!.id, { group: TRANSCODER_GROUP }), 1);
      await waitFor('the replay after the dead letter was replayed', async () => (await new ReplayStore(stack.db).listByRoom('44', { limit: 10 })).length === 1, 60_000);
    });

    it('refuses a path outside the recordings folder', async () => {
      const outside = join(scratch, 'secret.flv');
      await makeTestMedia(outside, { seconds: 1 });
      w = worker(stack, { maxAttempts: 1 });
      await w.start();
      await stack.bus.publish('recording.finished', recordingEvent(stack, outside, { eventId: 'out-1' }));
      const [dead] = await waitFor('a dead letter', async () => {
        const d = await stack.bus.listDead({ group: TRANSCODER_GROUP });
        return d.length ? d : null;
      }, 30_000);
      assert.match(dead!.lastError, /outside the recordings folder/);
      assert.deepEqual((await stack.objects.list('')).items, []);
      assert.ok(existsSync(outside));
    });
  });
}
