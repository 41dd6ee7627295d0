import { describe, it, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Registry } from 'prom-client';
import { missingTool } from '../core/testing/tools.js';
import { waitFor } from '../core/testing/wait-for.js';
import { silentLogger } from '../core/logging/logger.js';
import { makeTestMedia } from '../core/ffmpeg/test-media.js';
import { probeMedia } from '../core/ffmpeg/probe.js';
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
    bus: stack.bus, replays: new ReplayStore(stack.db), objects: stack.objects, log: silentLogger(),
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
