/**
 * Issue 13 end to end on the all-in-one process: ffmpeg pushes a show with recording on, the
 * publisher goes away, and the show becomes a replay (transcoder inside onair.ts): listed by the
 * API, its playback URL serves an MP4 ffprobe reads, with Range. Embedded set with the local folder;
 * MariaDB + Redis with the MinIO client on s3rver.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { missingTool } from '../../core/testing/tools.js';
import { startTestS3Server, type TestS3Server } from '../../core/testing/s3-test-server.js';
import { probeMedia } from '../../core/ffmpeg/probe.js';
import { publish, stackAdapterSets, startStack, until } from './onair-stack.js';

const skip = missingTool('ffmpeg') || missingTool('ffprobe');
let s3: Promise<TestS3Server> | undefined;
after(async () => { if (s3) await (await s3).close(); });

for (const set of stackAdapterSets()) {
  describe(`a pushed show becomes a replay (${set.name})`, { skip }, () => {
    for (const segmented of [false, true]) it(segmented
      ? 'recorded in 2 s segments (ONAIR_RECORD_SEGMENT): one replay, joined into one MP4 whose duration is the sum of the segments'
      : 'records, transcodes, lists and plays it back', async () => {
      const adapters = await set.env();
      // Rate limits off: registrations from 127.0.0.1 are counted in the shared Redis.
      const env: Record<string, string> = { ...adapters.env, ONAIR_RECORD: 'true', ONAIR_RATE_LIMITS: 'false', ...(segmented ? { ONAIR_RECORD_SEGMENT: '2s' } : {}) };
      if (set.name !== 'embedded') {
        s3 ??= startTestS3Server();
        env.ONAIR_S3_URL = (await s3).url(`e2e-${randomBytes(5).toString('hex')}`);
      }
      const stack = await startStack(env);
      const children: Array<{ kill(signal?: NodeJS.Signals): boolean }> = [];
      try {
        const anchor = await stack.user('anchor');
        const room = await stack.call('POST', '/rooms', { title: 'replayed show' }, anchor.token);
        const start = await stack.call('POST', '/live/start', { room_id: room.body.id }, anchor.token);
        assert.equal(start.status, 200, JSON.stringify(start.body));
        const ff = publish(stack.fixPort(start.body.push_url));
        children.push(ff);
        await until('live', async () => (await stack.call('GET', `/rooms/${room.body.id}`)).body.is_live === true, 15_000);
        await new Promise((r) => setTimeout(r, segmented ? 7000 : 4000));
        ff.kill('SIGINT');
        await ff.exited;

        const list = await until('the replay', async () => {
          const res = await stack.call('GET', `/rooms/${room.body.id}/replays`);
          return res.status === 200 && res.body.replays.length === 1 ? res.body : null;
        }, 60_000);
        const replay = list.replays[0];
        // A segmented show is listed as soon as its first segment is a replay (2 s then): its duration
        // is checked below, once the show is joined.
        if (!segmented) assert.ok(replay.duration_ms > 2500 && replay.duration_ms < 15_000, `duration ${replay.duration_ms}`);
        const view = segmented
          ? await until('the joined show', async () => {
            const res = await stack.call('GET', `/replays/${replay.id}`);
            return res.status === 200 && res.body.playback === 'file' ? res : null;
          }, 60_000)
          : await stack.call('GET', `/replays/${replay.id}`);
        assert.equal(view.status, 200);
        if (segmented) {
          assert.ok(view.body.segments.length >= 3, `segments ${view.body.segments.length}`);
          assert.equal(list.replays.length, 1, 'one replay for the show');
          assert.equal(view.body.complete, true);
          assert.match(view.body.playback_url, /show\.mp4/);
          const sum = view.body.segments.reduce((a: number, x: { duration_ms: number }) => a + x.duration_ms, 0);
          assert.ok(Math.abs(view.body.joined.duration_ms - sum) <= 150, `joined ${view.body.joined.duration_ms} ms, segments ${sum} ms`);
          const listed = (await stack.call('GET', `/rooms/${room.body.id}/replays`)).body.replays[0];
          assert.ok(listed.duration_ms > 2500 && listed.duration_ms < 15_000, `duration ${listed.duration_ms}`);
        }
        const url = view.body.playback_url.startsWith('http') ? view.body.playback_url : `http://127.0.0.1:${stack.httpPort}${view.body.playback_url}`;
        // ffprobe reads the MP4 over HTTP (it seeks with Range to reach the index and the samples).
        const probe = await probeMedia(url);
        assert.match(probe.format, /mp4/);
        if (segmented) assert.ok(Math.abs(probe.durationMs - view.body.joined.duration_ms) <= 50, `ffprobe ${probe.durationMs} ms`);
        assert.equal(probe.video?.codec, 'h264');
        assert.equal(probe.audio?.codec, 'aac');
        const ranged = await fetch(url, { headers: { Range: 'bytes=0-15' } });
        assert.equal(ranged.status, 206);
        assert.equal(Buffer.from(await ranged.arrayBuffer()).subarray(4, 8).toString('latin1'), 'ftyp');
        // The source FLV is gone once the MP4 was verified (default policy).
        const dir = `${stack.dataDir}/recordings/${room.body.id}`;
        assert.equal(existsSync(dir) ? readdirSync(dir).length : 0, 0);
      } finally {
        for (const c of children) c.kill('SIGKILL');
        await stack.close();
        await adapters.cleanup();
      }
    });
  });
}
