import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { missingTool } from '../core/testing/tools.js';
import { waitFor } from '../core/testing/wait-for.js';
import { killGroup, spawnRole, waitForRole, type RoleProcess } from '../core/testing/role-process.js';
import { silentLogger } from '../core/logging/logger.js';
import { loopMedia, makeTestMedia } from '../core/ffmpeg/test-media.js';
import { probeMedia } from '../core/ffmpeg/probe.js';
import { ReplayStore } from '../core/replays/replay.store.js';
import { TranscoderWorker } from './worker.js';
import { STREAM_UPLOAD_MIN_BYTES } from './transcode-job.js';
import { transcoderStackSets, type TranscoderStack } from './testing/transcoder-stack.js';

/**
 * kill -9 of a real transcoder process (transcoder/main.ts, its own process group with its ffmpeg)
 * in the middle of a job, then another transcoder takes the job over once the lease passes: the
 * result is exactly one MP4, one poster and one replay row, and the MP4 is whole.
 */
const sets = transcoderStackSets();
after(() => Promise.all(sets.map((s) => s.close())));

/** A transcoder/main.ts in its own process group (killGroup takes its ffmpeg too), consuming the bus. */
async function startChild(stack: TranscoderStack, extraEnv: Record<string, string>): Promise<RoleProcess> {
  const child = spawnRole('transcoder/main.ts', { ...stack.env, ONAIR_TRANSCODER_LEASE: '3s', ONAIR_TRANSCODER_RETRY_BACKOFF: '100ms', ...extraEnv }, { detached: true });
  await waitForRole(child, 'the child transcoder to start', (out) => out.includes('transcoder consuming'))
    .catch(async (err: unknown) => { await killGroup(child).catch(() => undefined); throw err; });
  return child;
}

/** The slow ffmpeg the child runs: every ffmpeg in real time (-re), so a remux or join of N s takes N s, a window a kill lands in. */
function slowFfmpeg(stack: TranscoderStack): string {
  const slow = join(stack.config.dataDir, 'slow-ffmpeg');
  writeFileSync(slow, '#!/bin/sh\nexec ffmpeg -re "$@"\n');
  chmodSync(slow, 0o755);
  return slow;
}

/** The second transcoder (in this process) that takes the killed one's job over once its lease passes. */
async function startResumer(stack: TranscoderStack, replays: ReplayStore, keepSource: boolean): Promise<TranscoderWorker> {
  const resumer = new TranscoderWorker({
    bus: stack.bus, replays, objects: stack.objects, log: silentLogger(), recordingsDir: stack.recordingsDir,
    workDir: join(stack.config.dataDir, 'transcoder-work'), keepSource, concurrency: 1, leaseMs: 3000,
    maxAttempts: 3, backoffMs: 100, ffmpegTimeoutMs: 60_000, consumerName: 'resumer',
  });
  await resumer.start();
  return resumer;
}

/** Downloads `key` from the stack's object store to `name` in its data folder: its size and what ffprobe reads. */
async function downloaded(stack: TranscoderStack, key: string, name: string): Promise<{ size: number; durationMs: number }> {
  const mp4 = join(stack.config.dataDir, name);
  await pipeline((await stack.objects.get(key)).stream, createWriteStream(mp4));
  return { size: statSync(mp4).size, durationMs: (await probeMedia(mp4)).durationMs };
}

for (const set of sets) {
  describe(`transcoder kill -9 and resume on ${set.name}`, { skip: missingTool('ffmpeg') || missingTool('ffprobe') }, () => {
    for (const when of ['mid-remux', 'once the upload has begun'] as const) {
      it(`a transcoder killed ${when} is resumed by another: one object, one row`, async () => {
        const stack = await set.make();
        let child: RoleProcess | undefined;
        let resumer: TranscoderWorker | undefined;
        try {
          const dir = join(stack.recordingsDir, '42');
          mkdirSync(dir, { recursive: true });
          const flv = join(dir, 'pub1.flv');
          // 8 s of 640x360: with `-re` (realtime) the remux takes 8 s, a window the kill lands in.
          // For the upload case, a larger file (12 MiB of noise-like video) goes up in 5 MiB parts on S3.
          await makeTestMedia(flv, when === 'mid-remux' ? { seconds: 8, width: 640, height: 360 } : { seconds: 12, width: 1280, height: 720, fps: 30 });
          const started = await startChild(stack, when === 'mid-remux' ? { ONAIR_FFMPEG_PATH: slowFfmpeg(stack) } : {});
          child = started;
          await stack.bus.publish('recording.finished', {
            eventId: `media:100:pub1:${flv}`, at: Date.now(), roomId: '42', publisherId: 'pub1', file: { path: flv }, format: 'flv',
            segment: 0, startedAt: Date.now() - 8000, endedAt: Date.now(), durationMs: 8000, size: statSync(flv).size,
          }, { key: '42' });
          const work = join(stack.config.dataDir, 'transcoder-work');
          if (when === 'mid-remux') {
            await waitFor('remux in progress', () => started.output().includes('remux progress') && readdirSync(work).length > 0, 60_000, 20);
          } else {
            // The poster is the last thing made before the uploads start.
            await waitFor('the upload to begin', () => existsSync(work) && readdirSync(work).some((d) => existsSync(join(work, d, 'poster.jpg'))), 60_000, 5);
          }
          await killGroup(child);
          const replays = new ReplayStore(stack.db);
          const before = await replays.listByRoom('42', { limit: 10 });
          if (when === 'mid-remux') assert.equal(before.length, 0, 'killed before it wrote anything');

          resumer = await startResumer(stack, replays, false);
          const replay = await waitFor('the resumed replay', async () => {
            const [r] = await replays.listByRoom('42', { limit: 10 });
            return r && !existsSync(flv) ? r : null;
          }, 90_000);
          // Exactly one of each, however far the killed one got.
          assert.equal((await replays.listByRoom('42', { limit: 10 })).length, 1, `rows before the resume: ${before.length}`);
          const full = (await replays.get(replay.id))!;
          assert.equal(full.segments.length, 1);
          assert.deepEqual((await stack.objects.list('')).items.map((i) => i.key), ['replays/42/pub1/0000.jpg', 'replays/42/pub1/0000.mp4']);
          const probe = await downloaded(stack, full.segments[0]!.objectKey, 'check.mp4');
          assert.equal(probe.size, full.segments[0]!.size);
          const expected = when === 'mid-remux' ? 8000 : 12000;
          assert.ok(Math.abs(probe.durationMs - expected) < 300, `whole MP4: ${probe.durationMs} ms`);
          if (set.name === 'cluster' && when !== 'mid-remux' && stack.s3) {
            assert.ok(stack.s3.requests.uploadPart >= 2, 'the MP4 went up in parts (multipart path)');
          }
        } finally {
          if (child && !child.ended()) await killGroup(child).catch(() => undefined);
          await resumer?.stop();
          await stack.close();
        }
      });
    }

    it('a transcoder killed while the replay goes up during the remux (index reserved) is resumed by another: one object, one row', async () => {
      const stack = await set.make();
      let child: RoleProcess | undefined;
      let resumer: TranscoderWorker | undefined;
      try {
        const dir = join(stack.recordingsDir, '43');
        mkdirSync(dir, { recursive: true });
        // Long enough for the upload during the remux (STREAM_UPLOAD_MIN_BYTES): 10 s of 720p at
        // 2.5 Mbit/s, 12 times over (2 minutes, about 38 MB, 5 MiB parts on S3).
        const clip = join(stack.config.dataDir, 'clip.flv');
        await makeTestMedia(clip, { seconds: 10, width: 1280, height: 720, fps: 30, gopSeconds: 2, videoBitrate: '2500k' });
        const flv = join(dir, 'pub3.flv');
        await loopMedia(clip, flv, 12);
        assert.ok(statSync(flv).size >= STREAM_UPLOAD_MIN_BYTES);
        const durationMs = (await probeMedia(flv)).durationMs;
        // The child's ffmpeg reads at 8x realtime: the 2-minute remux takes 15 s, a window the kill lands in.
        const slow = join(stack.config.dataDir, 'slow-ffmpeg-8x');
        writeFileSync(slow, '#!/bin/sh\nexec ffmpeg -readrate 8 "$@"\n');
        chmodSync(slow, 0o755);
        child = await startChild(stack, { ONAIR_FFMPEG_PATH: slow, ONAIR_TRANSCODER_UPLOAD_DURING_REMUX: 'on' });
        const parts = stack.s3?.requests.uploadPart ?? 0;
        await stack.bus.publish('recording.finished', {
          eventId: `media:100:pub3:${flv}`, at: Date.now(), roomId: '43', publisherId: 'pub3', file: { path: flv }, format: 'flv',
          segment: 0, startedAt: Date.now() - durationMs, endedAt: Date.now(), durationMs, size: statSync(flv).size,
        }, { key: '43' });
        const work = join(stack.config.dataDir, 'transcoder-work');
        const writing = () => existsSync(work) && readdirSync(work).some((d) => existsSync(join(work, d, 'replay.mp4')) && statSync(join(work, d, 'replay.mp4')).size > 10 * 1024 * 1024);
        // S3: parts have gone up while ffmpeg still writes; the local folder copies only once it is written.
        if (stack.s3) await waitFor('parts uploaded during the remux', () => stack.s3!.requests.uploadPart > parts && writing(), 60_000, 10);
        else await waitFor('the remux writing', writing, 60_000, 10);
        await killGroup(child);
        const replays = new ReplayStore(stack.db);
        assert.equal((await replays.listByRoom('43', { limit: 10 })).length, 0, 'killed before it wrote a row');
        assert.deepEqual((await stack.objects.list('')).items.map((i) => i.key), [], 'no object from the killed upload');

        resumer = await startResumer(stack, replays, false);
        const replay = await waitFor('the resumed replay', async () => {
          const [r] = await replays.listByRoom('43', { limit: 10 });
          return r && !existsSync(flv) ? r : null;
        }, 120_000);
        assert.equal((await replays.listByRoom('43', { limit: 10 })).length, 1);
        const full = (await replays.get(replay.id))!;
        assert.deepEqual((await stack.objects.list('')).items.map((i) => i.key), ['replays/43/pub3/0000.jpg', 'replays/43/pub3/0000.mp4']);
        const probe = await downloaded(stack, full.segments[0]!.objectKey, 'check-reserved.mp4');
        assert.equal(probe.size, full.segments[0]!.size);
        assert.ok(Math.abs(probe.durationMs - durationMs) < 500, `whole MP4: ${probe.durationMs} ms of ${durationMs}`);
      } finally {
        if (child && !child.ended()) await killGroup(child).catch(() => undefined);
        await resumer?.stop();
        await stack.close();
      }
    });

    it('a transcoder killed while joining a show\'s segments is resumed by another: one joined MP4, the row once', async () => {
      const stack = await set.make();
      let child: RoleProcess | undefined;
      let resumer: TranscoderWorker | undefined;
      try {
        const dir = join(stack.recordingsDir, '46');
        mkdirSync(dir, { recursive: true });
        const files = [join(dir, 'pj-0000.flv'), join(dir, 'pj-0001.flv')];
        for (const f of files) await makeTestMedia(f, { seconds: 4, width: 640, height: 360 });
        // Every ffmpeg of the child in real time (-re): the join of 8 s takes 8 s, a window the kill lands in.
        child = await startChild(stack, { ONAIR_FFMPEG_PATH: slowFfmpeg(stack), ONAIR_RECORD_KEEP_SOURCE: 'true' });
        for (const [i, f] of files.entries()) {
          await stack.bus.publish('recording.finished', {
            eventId: `media:100:pj:${f}`, at: Date.now(), roomId: '46', publisherId: 'pj', file: { path: f }, format: 'flv',
            segment: i, ...(i === 1 ? { final: true } : {}), startedAt: Date.now() - 4000, endedAt: Date.now(), durationMs: 4000, size: statSync(f).size,
          }, { key: '46' });
        }
        const work = join(stack.config.dataDir, 'transcoder-work');
        await waitFor('the join in progress', () => existsSync(work) && readdirSync(work).some((d) => d.startsWith('join-') && existsSync(join(work, d, 'segments.ffconcat'))), 90_000, 20);
        await killGroup(child);
        const replays = new ReplayStore(stack.db);
        const [cut] = await replays.listByRoom('46', { limit: 10 });
        assert.equal(cut?.joined ?? null, null, 'killed before the joined row was written');

        resumer = await startResumer(stack, replays, true);
        const replay = await waitFor('the joined show after the resume', async () => {
          const [r] = await replays.listByRoom('46', { limit: 10 });
          return r?.joined ? r : null;
        }, 90_000);
        assert.equal((await replays.listByRoom('46', { limit: 10 })).length, 1);
        const full = (await replays.get(replay.id))!;
        assert.equal(full.segments.length, 2);
        // One joined object; the segments' MP4s are removed after it (ONAIR_REPLAY_KEEP_SEGMENTS=false).
        const mp4s = async () => (await stack.objects.list('replays/46/')).items.map((i) => i.key).filter((k) => k.endsWith('.mp4'));
        await waitFor('segment objects removed after the join', async () => (await mp4s()).length === 1, 30_000);
        assert.deepEqual(await mp4s(), ['replays/46/pj/show.mp4']);
        const probe = await downloaded(stack, replay.joined!.objectKey, 'check-show.mp4');
        assert.equal(probe.size, replay.joined!.size);
        const sum = full.segments.reduce((a, x) => a + x.durationMs, 0);
        assert.ok(Math.abs(probe.durationMs - sum) <= 100, `joined ${probe.durationMs} ms, segments ${sum} ms`);
      } finally {
        if (child && !child.ended()) await killGroup(child).catch(() => undefined);
        await resumer?.stop();
        await stack.close();
      }
    });
  });
}
