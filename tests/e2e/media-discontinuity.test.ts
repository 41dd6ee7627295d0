/**
 * Two things real encoders do on one publishing connection, through the real engine (RTMP in,
 * HTTP-FLV out, recorder) and the transcoder's job, with ffmpeg-made media sent message by message:
 *
 * - the timestamps reset mid-stream (OBS restarting its output): live viewers must get a timeline
 *   that never steps back, and the recording and its replay must keep both halves;
 * - the resolution changes mid-stream (a new AVC sequence header, 640x360 then 1280x720): the
 *   replay must decode all the way through and last as long as both halves.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { missingTool } from '../../core/testing/tools.js';
import { probeMedia } from '../../core/ffmpeg/probe.js';
import { LocalObjectStore } from '../../core/object-store/index.js';
import type { MediaEvents } from '../../core/media/media-contract.js';
import { RtmpClient } from '../../media/servers/rtmp/client.js';
import { FlvParser } from '../../media/protocols/flv/flv-parser.js';
import { encodeAmf0 } from '../../media/protocols/rtmp/amf0.js';
import type { MediaPacket } from '../../media/stream/media-packet.js';
import { joinSegments, transcodeRecording } from '../../transcoder/transcode-job.js';
import { makeTestFlv, readFlvPackets, startTestEngine, waitFor, type TestEngine } from './media-fixtures.js';

const skip = missingTool('ffmpeg') || missingTool('ffprobe');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An HTTP-FLV viewer keeping every audio/video tag's timestamp. */
function flvViewer(url: string): { stamps: number[]; types: number[]; close(): void } {
  const stamps: number[] = [];
  const types: number[] = [];
  const parser = new FlvParser();
  let res: IncomingMessage | undefined;
  httpGet(url, (r) => {
    res = r;
    r.on('data', (chunk: Buffer) => {
      for (const t of parser.push(chunk)) if (t.type === 8 || t.type === 9) {
        stamps.push(t.timestamp);
        types.push(t.type);
      }
    });
  }).on('error', () => undefined);
  return { stamps, types, close: () => res?.destroy() };
}

/** Where a run of stamps steps back by more than `tolerance` ms (-1: never), with the stamps around it. */
function stepBack(stamps: number[], tolerance = 0): string {
  const at = stamps.findIndex((ts, i) => i > 0 && ts < stamps[i - 1]! - tolerance);
  return at < 0 ? '' : `at ${at}: ${stamps.slice(Math.max(0, at - 2), at + 2).join(', ')}`;
}

/** The largest step back between consecutive audio/video tags of the source (ffmpeg's own interleave at a file's end). */
const interleaveSlack = (packets: MediaPacket[]) => {
  const av = packets.filter((p) => p.type !== 18 && !p.isSequenceHeader).map((p) => p.timestamp);
  return Math.max(0, ...av.map((ts, i) => (i > 0 ? av[i - 1]! - ts : 0)));
};

/** ffmpeg decoding the whole file: its error lines (none for a file that plays). */
function decodeErrors(file: string): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn('ffmpeg', ['-hide_banner', '-nostdin', '-v', 'error', '-i', file, '-f', 'null', '-'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('close', (code) => resolve(code === 0 ? err.trim() : `exit ${code}: ${err}`));
  });
}

/**
 * Publishes `halves` one after another on ONE RTMP connection, each message stamped as in its file
 * plus `shift(i)` (0 for every half: a reset), paced at `speed` x real time. `onLive` runs once the
 * stream is live (after a second of the first half).
 */
async function publishHalves(media: TestEngine, key: string, halves: MediaPacket[][], shift: (half: number) => number, onLive: () => Promise<void>): Promise<void> {
  const port = Number(new URL(media.rtmpBase.replace('rtmp:', 'http:')).port);
  const c = await RtmpClient.open('127.0.0.1', port);
  try {
    await c.connect('live');
    c.setChunkSize(60_000);
    c.publish(key);
    assert.equal((await c.nextStatus()).code, 'NetStream.Publish.Start');
    const speed = 4;
    let live = false;
    for (const [i, packets] of halves.entries()) {
      // Live metadata, as an encoder sends it at each (re)start: no duration (the files' onMetaData has one).
      c.sendMedia(18, 0, encodeAmf0('@setDataFrame', 'onMetaData', { videocodecid: 7, audiocodecid: 10, duration: 0 }));
      const t0 = Date.now();
      const first = packets.find((p) => p.type !== 18)?.timestamp ?? 0;
      for (const p of packets) {
        if (p.type === 18) continue;
        const due = t0 + (p.timestamp - first) / speed;
        if (due > Date.now()) await sleep(due - Date.now());
        c.sendMedia(p.type as 8 | 9, p.timestamp + shift(i), p.body);
        if (!live && i === 0 && p.timestamp - first >= 1000) {
          live = true;
          await onLive();
        }
      }
    }
    await sleep(300);
  } finally {
    c.close();
  }
}

describe('publisher discontinuities through the engine, the recorder and the replay', { skip }, () => {
  let media: TestEngine;
  let dir: string;
  before(async () => {
    media = await startTestEngine({ record: true, hls: false });
    dir = mkdtempSync(join(tmpdir(), 'onair-discontinuity-'));
  });
  after(async () => {
    await media?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** The recording's record.done for `stream`, and its replay made by the transcoder's job. */
  async function replayOf(stream: string): Promise<{ done: MediaEvents['record.done']; mp4: string; remux: string }> {
    const done = await waitFor(`record.done of ${stream}`, () => media.events.find((e) => e.name === 'record.done' && (e.payload as MediaEvents['record.done']).streamName === stream)?.payload as MediaEvents['record.done'] | undefined, 15_000);
    const workDir = mkdtempSync(join(dir, 'job-'));
    const result = await transcodeRecording(
      { source: done.path, workDir, videoKey: `replays/${stream}.mp4`, posterKey: `replays/${stream}.jpg`, durationHintMs: done.durationMs },
      { store: new LocalObjectStore(join(dir, 'objects')) },
    );
    return { done, mp4: join(workDir, 'replay.mp4'), remux: result.remux };
  }

  it('a timestamp reset mid-stream: the viewer never sees time step back, the recording and the replay keep both halves', async () => {
    const half = readFlvPackets(makeTestFlv(dir, { seconds: 4, width: 320, height: 240 }));
    let viewer: ReturnType<typeof flvViewer> | undefined;
    // The second half starts again at 0, with its metadata and sequence headers, as OBS does.
    await publishHalves(media, 'sk_rec_7101', [half, half], () => 0, async () => {
      viewer = flvViewer(`${media.httpBase}/live/7101.flv?token=good`);
      await waitFor('the viewer gets media', () => viewer!.stamps.length > 0, 5000);
    });
    await waitFor('the viewer got the second half', () => Math.max(...viewer!.stamps) > 6000, 5000).catch(() => undefined);
    viewer!.close();
    const { stamps, types } = viewer!;
    // Each track never steps back; across tracks, no more than the source's own interleave did.
    for (const type of [8, 9]) assert.equal(stepBack(stamps.filter((_, i) => types[i] === type)), '', `track ${type} steps back`);
    assert.equal(stepBack(stamps, interleaveSlack(half)), '', 'audio/video step back');
    assert.ok(Math.max(...stamps) > 7000, `the viewer's timeline covers both halves: ${Math.max(...stamps)} ms`);

    const { done, mp4 } = await replayOf('7101');
    assert.ok(done.durationMs > 7500, `record.done duration ${done.durationMs} ms covers both halves`);
    const flv = await probeMedia(done.path);
    assert.ok(flv.durationMs > 7500, `recording lasts ${flv.durationMs} ms`);
    const replay = await probeMedia(mp4);
    assert.ok(replay.durationMs > 7500 && replay.durationMs < 9500, `replay lasts ${replay.durationMs} ms`);
    assert.equal(await decodeErrors(mp4), '');
  });

  it('a resolution change mid-stream (640x360, then 1280x720): the whole replay decodes, at one size, and lasts both halves', async () => {
    const small = readFlvPackets(makeTestFlv(dir, { seconds: 3, width: 640, height: 360 }));
    const large = readFlvPackets(makeTestFlv(dir, { seconds: 3, width: 1280, height: 720 }));
    const end = Math.max(...small.map((p) => p.timestamp));
    // One continuous timeline: only the decoder configuration changes.
    await publishHalves(media, 'sk_rec_7102', [small, large], (i) => (i === 0 ? 0 : end + 33), async () => undefined);
    const { done, mp4, remux } = await replayOf('7102');
    assert.ok(done.durationMs > 5000, `record.done duration ${done.durationMs} ms`);
    assert.equal(await decodeErrors(mp4), '', 'ffmpeg decodes the whole replay');
    const replay = await probeMedia(mp4);
    assert.ok(replay.durationMs > 5000 && replay.durationMs < 7000, `replay lasts ${replay.durationMs} ms`);
    assert.deepEqual([replay.video?.width, replay.video?.height], [1280, 720]);
    assert.equal(remux, 'reencoded');
  });

  it('one resolution stays on the copy path', async () => {
    const { remux } = await replayOf('7101');
    assert.notEqual(remux, 'reencoded');
  });
});

describe('a resolution change in a show recorded in segments (ONAIR_RECORD_SEGMENT)', { skip }, () => {
  let media: TestEngine;
  let dir: string;
  before(async () => {
    media = await startTestEngine({ record: true, hls: false, recordSegment: '2s' });
    dir = mkdtempSync(join(tmpdir(), 'onair-discontinuity-seg-'));
  });
  after(async () => {
    await media?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the joined replay decodes whole, at one size, and lasts both halves', async () => {
    const small = readFlvPackets(makeTestFlv(dir, { seconds: 4, width: 640, height: 360 }));
    const large = readFlvPackets(makeTestFlv(dir, { seconds: 4, width: 1280, height: 720 }));
    const end = Math.max(...small.map((p) => p.timestamp));
    await publishHalves(media, 'sk_rec_7103', [small, large], (i) => (i === 0 ? 0 : end + 33), async () => undefined);
    const store = new LocalObjectStore(join(dir, 'objects'));
    const done = await waitFor('the last segment', () => {
      const all = media.events.filter((e) => e.name === 'record.done').map((e) => e.payload as MediaEvents['record.done']);
      return all.some((d) => d.final) ? all : undefined;
    }, 15_000);
    assert.ok(done.length >= 3, `${done.length} segments`);
    const keys: string[] = [];
    for (const d of done) {
      const key = `segments/${d.segment}.mp4`;
      await transcodeRecording({ source: d.path, workDir: mkdtempSync(join(dir, 'job-')), videoKey: key, posterKey: `segments/${d.segment}.jpg`, durationHintMs: d.durationMs }, { store });
      keys.push(key);
    }
    const workDir = mkdtempSync(join(dir, 'join-'));
    const { probe } = await joinSegments({ segmentKeys: keys, workDir, key: 'show.mp4' }, { store });
    const mp4 = join(workDir, 'show.mp4');
    assert.equal(await decodeErrors(mp4), '', 'ffmpeg decodes the whole joined replay');
    assert.ok(probe.durationMs > 7000 && probe.durationMs < 9000, `joined replay lasts ${probe.durationMs} ms`);
    assert.deepEqual([probe.video?.width, probe.video?.height], [1280, 720]);
  });
});
