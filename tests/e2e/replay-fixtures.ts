/**
 * A show recorded in segments, as the recorder and the transcoder leave it, for the replay tests:
 * a 12 s test pattern (2 s GOP) cut on keyframes into 3 segments of 4 s (timestamps from 0) and
 * remuxed to MP4 each; stored as a replay's segments; joined by the transcoder's joinSegments.
 */
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import type { Database } from '../../core/database/database.js';
import type { ObjectStore } from '../../core/object-store/object-store.port.js';
import { makeTestMedia } from '../../core/ffmpeg/test-media.js';
import { probeMedia } from '../../core/ffmpeg/probe.js';
import { remuxArgs } from '../../core/ffmpeg/args.js';
import { runFfmpeg } from '../../core/ffmpeg/process.js';
import { ReplayStore } from '../../core/replays/replay.store.js';
import { joinedObjectKey, segmentObjectKeys } from '../../core/replays/replay.js';
import { joinSegments } from '../../transcoder/transcode-job.js';

/** Writes rec.flv (12 s) and part-{0,1,2}.mp4 (4 s each) in `dir`; returns the recording and the parts. */
export async function makeSegmentedRecording(dir: string): Promise<{ recording: string; parts: string[] }> {
  const recording = join(dir, 'rec.flv');
  await makeTestMedia(recording, { seconds: 12, width: 640, height: 360, gopSeconds: 2 });
  await runFfmpeg(['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', '-i', recording, '-c', 'copy', '-f', 'segment', '-segment_time', '4',
    '-reset_timestamps', '1', '-segment_format', 'flv', join(dir, 'part-%d.flv')]);
  const parts = [0, 1, 2].map((i) => join(dir, `part-${i}.mp4`));
  for (const [i, p] of parts.entries()) await runFfmpeg(remuxArgs(join(dir, `part-${i}.flv`), p));
  return { recording, parts };
}

/** Stores `parts` as the segments of one show of the room (the last one final); returns the replay id. */
export async function addSegmentedShow(db: Database, objects: ObjectStore, show: { roomId: string; sessionId: string | null; parts: string[]; eventPrefix: string }): Promise<string> {
  const store = new ReplayStore(db);
  let replayId = '';
  for (const [i, file] of show.parts.entries()) {
    const key = segmentObjectKeys(show.roomId, 'p', i).video;
    const v = await objects.put(key, { file });
    const probe = await probeMedia(file);
    ({ replay: { id: replayId } } = await store.addSegment({
      sourceEventId: `${show.eventPrefix}-${i}`, roomId: show.roomId, sessionId: show.sessionId, publisherId: 'p', segment: i, objectKey: key, posterKey: null,
      durationMs: probe.durationMs, size: v.size, md5: v.md5, videoCodec: 'h264', audioCodec: 'aac', width: 640, height: 360,
      startedAt: Date.now() - 12_000 + i * 4000, endedAt: Date.now() - 8000 + i * 4000, ...(i === show.parts.length - 1 ? { final: true } : {}),
    }, (id) => `/api/v1/replays/${id}`));
  }
  return replayId;
}

/** What the transcoder does once the last segment is in: joins them into one MP4 and marks the replay joined; true when it was marked. */
export async function joinShow(db: Database, objects: ObjectStore, replayId: string, roomId: string, workRoot: string): Promise<{ marked: boolean; durationMs: number }> {
  const store = new ReplayStore(db);
  const full = (await store.get(replayId))!;
  const { probe, video } = await joinSegments({ segmentKeys: full.segments.map((x) => x.objectKey), workDir: mkdtempSync(join(workRoot, 'join-')), key: joinedObjectKey(roomId, 'p') }, { store: objects });
  const marked = await store.setJoined(replayId, full.segments.length, { objectKey: video.key, size: video.size, md5: video.md5, durationMs: probe.durationMs });
  return { marked, durationMs: probe.durationMs };
}
