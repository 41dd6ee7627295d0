import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, createReadStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { missingTool } from '../core/testing/tools.js';
import { waitFor } from '../core/testing/wait-for.js';
import { testObjectStores } from '../core/testing/test-object-stores.js';
import { loopMedia, makeTestMedia } from '../core/ffmpeg/test-media.js';
import { probeMedia } from '../core/ffmpeg/probe.js';
import { FfmpegError } from '../core/ffmpeg/process.js';
import { moovReservation, STREAM_UPLOAD_MIN_BYTES, transcodeRecording } from './transcode-job.js';

/**
 * transcodeRecording() on a recording long enough to be uploaded while ffmpeg writes it (the MP4's
 * index reserved at the front, the parts past it sent meanwhile), on both object stores. What a
 * viewer gets must not change: the index before the media data, the whole file, its duration.
 */
const MiB = 1024 * 1024;
const factories = testObjectStores();
after(() => Promise.all(factories.map((f) => f.close())));

const md5File = async (file: string) => {
  const h = createHash('md5');
  for await (const c of createReadStream(file)) h.update(c as Buffer);
  return h.digest('hex');
};
async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
/** The top-level boxes of an MP4, in order. */
function boxes(mp4: Buffer): string[] {
  const out: string[] = [];
  for (let at = 0; at + 8 <= mp4.length && out.length < 20;) {
    let size = mp4.readUInt32BE(at);
    const type = mp4.toString('latin1', at + 4, at + 8);
    if (size === 1) size = Number(mp4.readBigUInt64BE(at + 8));
    out.push(type);
    if (size < 8) break;
    at += size;
  }
  return out;
}

describe('transcodeRecording: upload while remuxing', { skip: missingTool('ffmpeg') || missingTool('ffprobe') }, () => {
  let dir: string;
  let flv: string;
  let durationMs: number;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'onair-transcode-job-'));
    // 2 minutes of 720p at 2.5 Mbit/s (about 38 MB): past STREAM_UPLOAD_MIN_BYTES, several 5 MiB parts.
    const clip = join(dir, 'clip.flv');
    await makeTestMedia(clip, { seconds: 10, width: 1280, height: 720, fps: 30, gopSeconds: 2, videoBitrate: '2500k' });
    flv = join(dir, 'show.flv');
    await loopMedia(clip, flv, 12);
    assert.ok(statSync(flv).size >= STREAM_UPLOAD_MIN_BYTES, `recording of ${statSync(flv).size} B`);
    durationMs = (await probeMedia(flv)).durationMs;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reserves room for the index from the recording\'s length, and none for short or unknown ones', () => {
    assert.equal(moovReservation(undefined, 100 * MiB), 0);
    assert.equal(moovReservation(0, 100 * MiB), 0);
    assert.equal(moovReservation(3_600_000, STREAM_UPLOAD_MIN_BYTES - 1), 0);
    const hour = moovReservation(3_600_000, 1200 * MiB);
    assert.ok(hour > moovReservation(600_000, 1200 * MiB));
  });

  for (const f of factories) {
    it(`on ${f.name}: parts go up before ffmpeg exits; the object is ffmpeg's faststart MP4, whole`, async () => {
      const { store, s3, close } = await f.make({ partSize: 5 * MiB });
      const work = mkdtempSync(join(dir, 'work-'));
      // ffmpeg, except that the remux's process waits (bounded) for `go` before it exits, after it
      // wrote everything: parts can only have gone up meanwhile if they went up while it ran.
      const go = join(work, 'go');
      const wrapper = join(work, 'ffmpeg');
      writeFileSync(wrapper, `#!/bin/sh\nffmpeg "$@" || exit $?\ncase "$*" in *moov_size*) i=0; while [ ! -e '${go}' ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done;; esac\n`);
      chmodSync(wrapper, 0o755);
      try {
        const before = s3?.requests.uploadPart ?? 0;
        let partsWhenRemuxed = -1;
        const job = transcodeRecording({ source: flv, workDir: work, videoKey: 'replays/t/0000.mp4', posterKey: 'replays/t/0000.jpg', durationHintMs: durationMs, uploadDuringRemux: true }, {
          store, ffmpegPath: wrapper, ffmpegTimeoutMs: 120_000,
          onStage: (stage) => { if (stage === 'remux') partsWhenRemuxed = (s3?.requests.uploadPart ?? 0) - before; },
        });
        job.catch(() => undefined);
        // On S3, wait for the first part while the remux is held; the local folder copies afterwards.
        if (s3) await waitFor('a part uploaded while ffmpeg has not exited', () => s3.requests.uploadPart > before, 60_000);
        writeFileSync(go, '');
        const { probe, video, poster, remux } = await job;
        assert.equal(remux, 'reserved');
        if (s3) assert.ok(partsWhenRemuxed >= 1, `parts sent before the remux ended: ${partsWhenRemuxed}`);

        const local = join(work, 'replay.mp4');
        assert.equal(video.size, statSync(local).size);
        assert.equal(video.md5, await md5File(local));
        const object = await readAll((await store.get(video.key)).stream);
        assert.equal(createHash('md5').update(object).digest('hex'), video.md5);
        const layout = boxes(object);
        assert.equal(layout[0], 'ftyp');
        assert.ok(layout.indexOf('moov') > 0 && layout.indexOf('moov') < layout.indexOf('mdat'), `moov before mdat: ${layout.join(' ')}`);
        assert.ok(Math.abs(probe.durationMs - durationMs) < 500, `probe ${probe.durationMs} ms of ${durationMs}`);
        assert.equal(probe.video?.width, 1280);
        assert.ok(poster && poster.size > 0);
        const downloaded = join(work, 'downloaded.mp4');
        writeFileSync(downloaded, object);
        assert.ok(Math.abs((await probeMedia(downloaded)).durationMs - durationMs) < 500);
      } finally {
        writeFileSync(go, '');
        rmSync(work, { recursive: true, force: true });
        await close();
      }
    });

    it(`on ${f.name}: ffmpeg killed mid-remux while parts go up: the job fails with ffmpeg's error, nothing is stored, the multipart upload is aborted`, async () => {
      const { store, s3, close } = await f.make({ partSize: 5 * MiB });
      const work = mkdtempSync(join(dir, 'work-'));
      // The remux (only it: the poster runs the real ffmpeg) reads at 8x realtime, so it is still
      // writing when `kill` appears; then it is killed with SIGKILL, as a crash or OOM would.
      const kill = join(work, 'kill');
      const wrapper = join(work, 'ffmpeg');
      writeFileSync(wrapper, `#!/bin/sh\ncase "$*" in *moov_size*) ;; *) exec ffmpeg "$@";; esac\nffmpeg -readrate 8 "$@" &\npid=$!\ni=0; while [ ! -e '${kill}' ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done\nkill -9 $pid; wait $pid; exit 1\n`);
      chmodSync(wrapper, 0o755);
      const mp4 = join(work, 'replay.mp4');
      try {
        const before = { ...(s3?.requests ?? { uploadPart: 0, abortMultipartUpload: 0, completeMultipartUpload: 0 }) };
        const job = transcodeRecording({ source: flv, workDir: work, videoKey: 'replays/t/0002.mp4', posterKey: 'replays/t/0002.jpg', durationHintMs: durationMs, uploadDuringRemux: true }, {
          store, ffmpegPath: wrapper, ffmpegTimeoutMs: 120_000,
        });
        job.catch(() => undefined);
        if (s3) await waitFor('a part uploaded while ffmpeg writes', () => s3.requests.uploadPart > before.uploadPart, 60_000);
        else await waitFor('ffmpeg writing', () => { try { return statSync(mp4).size > 10 * MiB; } catch { return false; } }, 60_000);
        writeFileSync(kill, '');
        await assert.rejects(job, (e: unknown) => e instanceof FfmpegError);
        assert.equal(await store.stat('replays/t/0002.mp4'), null);
        if (s3) {
          assert.equal(s3.requests.completeMultipartUpload, before.completeMultipartUpload, 'no upload completed');
          assert.equal(s3.requests.abortMultipartUpload, before.abortMultipartUpload + 1, 'the started upload aborted');
        }
      } finally {
        writeFileSync(kill, '');
        rmSync(work, { recursive: true, force: true });
        await close();
      }
    });

    it(`on ${f.name}: a recording far longer than its hint (index reservation too small) is remuxed again with +faststart`, async () => {
      const { store, close } = await f.make({ partSize: 5 * MiB });
      const work = mkdtempSync(join(dir, 'work-'));
      try {
        const { probe, video, remux } = await transcodeRecording({ source: flv, workDir: work, videoKey: 'replays/t/0001.mp4', posterKey: 'replays/t/0001.jpg', durationHintMs: 1000, uploadDuringRemux: true }, {
          store, ffmpegTimeoutMs: 120_000,
        });
        assert.equal(remux, 'faststart-after-overrun');
        const local = join(work, 'replay.mp4');
        assert.equal(video.md5, await md5File(local));
        const object = await readAll((await store.get(video.key)).stream);
        const layout = boxes(object);
        assert.ok(layout.indexOf('moov') > 0 && layout.indexOf('moov') < layout.indexOf('mdat'), `moov before mdat: ${layout.join(' ')}`);
        assert.ok(Math.abs(probe.durationMs - durationMs) < 500);
        assert.equal((await store.list('replays/t/')).items.filter((i) => i.key.endsWith('.mp4')).length >= 1, true);
      } finally {
        rmSync(work, { recursive: true, force: true });
        await close();
      }
    });

    it(`on ${f.name}: by default (uploadDuringRemux off) a long recording is remuxed with +faststart, then uploaded`, async () => {
      const { store, close } = await f.make({ partSize: 5 * MiB });
      const work = mkdtempSync(join(dir, 'work-'));
      try {
        const { video, remux } = await transcodeRecording({ source: flv, workDir: work, videoKey: 'replays/t/0003.mp4', posterKey: 'replays/t/0003.jpg', durationHintMs: durationMs }, {
          store, ffmpegTimeoutMs: 120_000,
        });
        assert.equal(remux, 'faststart');
        const layout = boxes(await readAll((await store.get(video.key)).stream));
        assert.ok(!layout.includes('free') || layout.indexOf('free') > layout.indexOf('moov'), `no reservation: ${layout.join(' ')}`);
        assert.ok(layout.indexOf('moov') > 0 && layout.indexOf('moov') < layout.indexOf('mdat'), `moov before mdat: ${layout.join(' ')}`);
      } finally {
        rmSync(work, { recursive: true, force: true });
        await close();
      }
    });
  }
});

/** The FLV with each AAC sequence header's AudioSpecificConfig replaced by garbage (sampling rate index 15). */
function spoilAacConfig(flv: Buffer): Buffer {
  const out = Buffer.from(flv);
  for (let p = 13; p + 11 <= out.length;) {
    const size = out.readUIntBE(p + 1, 3);
    if (out[p] === 8 && out[p + 11] === 0xaf && out[p + 12] === 0 && size >= 4) out.fill(0xff, p + 13, p + 11 + size);
    p += 11 + size + 4;
  }
  return out;
}

describe('transcodeRecording: a track ffmpeg cannot set up', { skip: missingTool('ffmpeg') || missingTool('ffprobe') }, () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'onair-transcode-tracks-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a publisher\'s garbage AAC configuration leaves the audio out of the replay instead of losing the whole replay', async () => {
    // Before, remux or probe failed the same way on every attempt: dead-lettered, no replay, although the video was fine.
    const good = join(dir, 'good.flv');
    await makeTestMedia(good, { seconds: 3 });
    const flv = join(dir, 'bad-aac.flv');
    const { readFileSync } = await import('node:fs');
    writeFileSync(flv, spoilAacConfig(readFileSync(good)));
    const { store, close } = await factories[0]!.make();
    const work = mkdtempSync(join(dir, 'work-'));
    try {
      const result = await transcodeRecording({ source: flv, workDir: work, videoKey: 'replays/b/0000.mp4', posterKey: 'replays/b/0000.jpg', durationHintMs: 3000 }, { store, ffmpegTimeoutMs: 60_000 });
      assert.equal(result.tracks, 'video');
      assert.equal(result.probe.video?.codec, 'h264');
      assert.ok(!result.probe.audio, 'no audio track');
      assert.ok(Math.abs(result.probe.durationMs - 3000) < 500, `${result.probe.durationMs} ms`);
      assert.ok(result.poster, 'a poster from the video');
      const local = join(work, 'replay.mp4');
      assert.equal(result.video.md5, await md5File(local));
    } finally {
      rmSync(work, { recursive: true, force: true });
      await close();
    }
  });

  it('a recording whose every track is unusable still fails (and goes to the dead letters as before)', async () => {
    const flv = join(dir, 'junk.flv');
    writeFileSync(flv, Buffer.concat([Buffer.from('FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00', 'latin1'), Buffer.alloc(4096, 0xff)]));
    const { store, close } = await factories[0]!.make();
    const work = mkdtempSync(join(dir, 'work-'));
    try {
      await assert.rejects(transcodeRecording({ source: flv, workDir: work, videoKey: 'replays/j/0000.mp4', posterKey: 'replays/j/0000.jpg' }, { store, ffmpegTimeoutMs: 60_000 }));
      assert.equal((await store.list('replays/j/')).items.length, 0, 'nothing stored');
    } finally {
      rmSync(work, { recursive: true, force: true });
      await close();
    }
  });
});
