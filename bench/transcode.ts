/**
 * npm run bench:transcode — how fast a recording becomes a replay (issue 13's goal: the whole
 * pipeline >= 200x realtime, so a 1-hour show is a replay within 20 s of its end).
 *
 * Makes a 720p30 H.264/AAC recording at test time: 10 s encoded once (2 s GOP, ~2.5 Mbit/s), then
 * repeated with `-stream_loop -c copy` into an FLV of ONAIR_BENCH_MINUTES minutes (default 60).
 * Then, on that FLV:
 *   remux        ffmpeg -c copy to MP4: plain, +faststart (second pass moving the index), and with the
 *                index reserved at the front (-moov_size, no second pass: the transcoder's command), x realtime
 *   poster       one JPEG frame
 *   upload       the MP4 to the local folder and to s3rver (multipart, 16 MiB parts, ONAIR_BENCH_PART_CONCURRENCY in flight), MB/s;
 *                s3rver runs behind the test proxy in a process of its own (bench/lib/s3rver-process.ts)
 *   pipeline     transcodeRecording() end to end, local and s3rver, x realtime, with each stage's wall
 *                time (stages overlap, so they add up to more than the total), the transcoder's
 *                default: the poster cut from the FLV during the remux, +faststart, then the upload
 *                with the probe beside it; the line says which remux ran ([remux faststart]). Then
 *                s3rver direct once more with the upload during the remux (ONAIR_TRANSCODER_UPLOAD_DURING_REMUX:
 *                index reserved at the front, parts sent while ffmpeg writes, head last; [remux
 *                reserved]), the same run's A/B
 *   join         joinSegments() of the show's MP4 twice (a show recorded in 2 segments): fetch, concat -c copy +faststart, probe, upload; local folder
 * Env: ONAIR_BENCH_MINUTES (default 60), ONAIR_BENCH_KEEP=1 keeps the temporary folder,
 * ONAIR_BENCH_PART_CONCURRENCY (parts in flight to s3rver; default: ONAIR_S3_URL's default).
 */
import { mkdtempSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTestMedia, loopMedia } from '../core/ffmpeg/test-media.js';
import { posterArgs, remuxArgs } from '../core/ffmpeg/args.js';
import { runFfmpeg } from '../core/ffmpeg/process.js';
import { probeMedia } from '../core/ffmpeg/probe.js';
import { LocalObjectStore } from '../core/object-store/local-object-store.js';
import { MinioObjectStore } from '../core/object-store/minio-object-store.js';
import { DEFAULT_PART_CONCURRENCY, parseS3Url } from '../core/config/s3-url.js';
import type { ObjectStore } from '../core/object-store/object-store.port.js';
import { startS3rverProcess } from './lib/s3rver-process.js';
import { joinSegments, moovReservation, transcodeRecording, uploadVerified } from '../transcoder/transcode-job.js';

const minutes = Number(process.env.ONAIR_BENCH_MINUTES ?? 60);
const inFlight = Number(process.env.ONAIR_BENCH_PART_CONCURRENCY ?? DEFAULT_PART_CONCURRENCY);
const dir = mkdtempSync(join(tmpdir(), 'onair-bench-transcode-'));
const fmt = (n: number, d = 1) => n.toFixed(d);
const secs = async (fn: () => Promise<unknown>) => {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
};

async function main(): Promise<void> {
  const load = () => `load ${loadavg().map((l) => fmt(l, 2)).join(' ')}`;
  console.log(`bench:transcode  ${minutes} min of 720p30  (${cpus().length} cores, ${load()}; the machine may be shared)`);
  const clip = join(dir, 'clip.flv');
  const flv = join(dir, 'show.flv');
  const makeClip = await secs(() => makeTestMedia(clip, { seconds: 10, width: 1280, height: 720, fps: 30, gopSeconds: 2, videoBitrate: '2500k' }));
  const makeLong = await secs(() => loopMedia(clip, flv, Math.round((minutes * 60) / 10)));
  const src = await probeMedia(flv);
  const mediaS = src.durationMs / 1000;
  const sizeMB = statSync(flv).size / 1e6;
  console.log(`recording        ${fmt(mediaS / 60)} min, ${fmt(sizeMB)} MB FLV (clip ${fmt(makeClip)} s, loop ${fmt(makeLong)} s)`);

  const mp4 = join(dir, 'show.mp4');
  const remuxPlain = await secs(() => runFfmpeg(['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', '-i', flv, '-c', 'copy', '-f', 'mp4', join(dir, 'plain.mp4')]));
  rmSync(join(dir, 'plain.mp4'));
  const reserve = moovReservation(src.durationMs, statSync(flv).size);
  const remuxReserved = reserve ? await secs(() => runFfmpeg(remuxArgs(flv, join(dir, 'reserved.mp4'), { reserveMoovBytes: reserve }))) : 0;
  rmSync(join(dir, 'reserved.mp4'), { force: true });
  const remux = await secs(() => runFfmpeg(remuxArgs(flv, mp4)));
  console.log(`remux            plain -c copy ${fmt(remuxPlain)} s = ${fmt(mediaS / remuxPlain, 0)}x realtime; with +faststart ${fmt(remux)} s = ${fmt(mediaS / remux, 0)}x realtime`
    + (reserve ? `; index reserved (${fmt(reserve / 1e6, 2)} MB, no second pass) ${fmt(remuxReserved)} s = ${fmt(mediaS / remuxReserved, 0)}x realtime` : ''));
  const poster = await secs(() => runFfmpeg(posterArgs(mp4, join(dir, 'p.jpg'), 5)));
  console.log(`poster           ${fmt(poster * 1000, 0)} ms`);

  const s3 = await startS3rverProcess();
  const stores: Array<[string, ObjectStore]> = [
    ['local folder', new LocalObjectStore(join(dir, 'objects'))],
    [`s3rver (16 MiB parts, ${inFlight} in flight)`, new MinioObjectStore({ target: parseS3Url(s3.url('bench', `partSize=16MiB&partConcurrency=${inFlight}`)) })],
    [`s3rver direct, no proxy (16 MiB parts, ${inFlight} in flight)`, new MinioObjectStore({ target: parseS3Url(s3.directUrl('bench', `partSize=16MiB&partConcurrency=${inFlight}`)) })],
  ];
  const mp4MB = statSync(mp4).size / 1e6;
  try {
    for (const [name, store] of stores) {
      const up = await secs(() => uploadVerified(store, 'bench/upload.mp4', mp4));
      console.log(`upload           ${name}: ${fmt(mp4MB)} MB in ${fmt(up)} s = ${fmt(mp4MB / up)} MB/s (verified: size + MD5 + stat)`);
      if (name === 'local folder') {
        const work = join(dir, 'work-join');
        mkdirSync(work, { recursive: true });
        const join2 = await secs(() => joinSegments({ segmentKeys: ['bench/upload.mp4', 'bench/upload.mp4'], workDir: work, key: 'bench/show.mp4' }, { store }));
        console.log(`join             ${name}: 2 segments = ${fmt((2 * mediaS) / 60)} min in ${fmt(join2)} s = ${fmt((2 * mediaS) / join2, 0)}x realtime (fetch, concat -c copy +faststart, probe, verified upload)`);
        rmSync(work, { recursive: true, force: true });
        await store.delete('bench/show.mp4');
      }
      await store.delete('bench/upload.mp4');
    }
    // Each store the way the transcoder runs it by default (the recording's length known, for the
    // poster; +faststart, then the upload), then s3rver direct once more with the upload during the
    // remux (ONAIR_TRANSCODER_UPLOAD_DURING_REMUX: index reserved, parts sent while ffmpeg writes),
    // the A/B of the same run.
    const runs: Array<[string, ObjectStore, boolean]> = [
      ...stores.map(([name, store]): [string, ObjectStore, boolean] => [name, store, false]),
      [`${stores[2]![0]}, upload during the remux`, stores[2]![1], true],
    ];
    for (const [name, store, uploadDuringRemux] of runs) {
      const work = join(dir, `work-${name.replace(/[^a-z0-9]+/gi, '-')}`);
      mkdirSync(work, { recursive: true });
      const stages: Record<string, number> = {};
      let mode = '';
      const total = await secs(async () => {
        ({ remux: mode } = await transcodeRecording({ source: flv, workDir: work, videoKey: 'replays/b/0000.mp4', posterKey: 'replays/b/0000.jpg', durationHintMs: src.durationMs, uploadDuringRemux }, {
          store, onStage: (stage, ms) => (stages[stage] = ms / 1000),
        }));
      });
      // In the reserved mode the upload runs from the remux's start: its time includes the remux.
      const parts = Object.entries(stages).map(([k, v]) => `${k} ${fmt(v)} s`).join(', ');
      console.log(`pipeline         ${name}: ${fmt(total)} s = ${fmt(mediaS / total, 0)}x realtime [remux ${mode}] (${parts}); a ${fmt(mediaS / 60)}-min show is a replay ${fmt(total)} s after it ends (${load()})`);
      rmSync(work, { recursive: true, force: true });
      await store.delete('replays/b/0000.mp4');
      await store.delete('replays/b/0000.jpg');
    }
  } finally {
    for (const [, store] of stores) await store.close();
    await s3.close();
  }
}

main().then(
  () => { if (process.env.ONAIR_BENCH_KEEP !== '1') rmSync(dir, { recursive: true, force: true }); },
  (err: unknown) => {
    console.error(err);
    rmSync(dir, { recursive: true, force: true });
    process.exit(1);
  },
);
