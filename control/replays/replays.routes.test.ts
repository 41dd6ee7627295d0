import { describe, it, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { missingTool } from '../../core/testing/tools.js';
import { testAdapterSets } from '../../core/testing/test-ports.js';
import { testObjectStores, type TestObjectStore } from '../../core/testing/test-object-stores.js';
import { makeTestMedia } from '../../core/ffmpeg/test-media.js';
import { probeMedia } from '../../core/ffmpeg/probe.js';
import { ReplayStore } from '../../core/replays/replay.store.js';
import { joinedObjectKey, segmentObjectKeys } from '../../core/replays/replay.js';
import { concatArgs, concatListFile } from '../../core/ffmpeg/args.js';
import { runFfmpeg } from '../../core/ffmpeg/process.js';
import { makeKit, type Kit } from '../testing/control-kit.js';

const stores = testObjectStores();
const adapterSets = testAdapterSets();
after(() => Promise.all(stores.map((s) => s.close())));

let media: { dir: string; mp4: string; jpg: string };
before(async () => {
  if (missingTool('ffmpeg')) return;
  const dir = mkdtempSync(join(tmpdir(), 'onair-replay-api-'));
  media = { dir, mp4: join(dir, 'r.mp4'), jpg: join(dir, 'p.jpg') };
  await makeTestMedia(media.mp4, { seconds: 6, format: 'mp4', gopSeconds: 1 });
  writeFileSync(media.jpg, Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]));
});
after(() => media && rmSync(media.dir, { recursive: true, force: true }));

// The object stores paired with the adapter sets: local folder + SQLite, S3 (s3rver) + MariaDB/Redis when present.
for (const [i, factory] of stores.entries()) {
  const set = adapterSets[Math.min(i, adapterSets.length - 1)]!;
  describe(`replays API on ${set.name} + ${factory.name}`, { skip: missingTool('ffmpeg') || missingTool('ffprobe') }, () => {
    let kit: Kit;
    let objects: TestObjectStore;
    let base: string;
    beforeEach(async () => {
      objects = await factory.make();
      kit = await makeKit(set, {}, { objects: objects.store });
      base = await kit.listen();
    });
    afterEach(async () => {
      await kit.close();
      await objects.close();
    });

    /** A replay as the transcoder leaves it: the MP4 and poster uploaded, the rows written. */
    async function addReplay(roomId: string, publisherId: string, endedAt = Date.now()) {
      const keys = segmentObjectKeys(roomId, publisherId, 0);
      const v = await objects.store.put(keys.video, { file: media.mp4 });
      await objects.store.put(keys.poster, { file: media.jpg });
      const probe = await probeMedia(media.mp4);
      const { replay } = await new ReplayStore(kit.ports.db).addSegment({
        sourceEventId: `ev-${roomId}-${publisherId}`, roomId, sessionId: null, publisherId, segment: 0, objectKey: keys.video, posterKey: keys.poster,
        durationMs: probe.durationMs, size: v.size, md5: v.md5, videoCodec: 'h264', audioCodec: 'aac', width: 320, height: 180,
        startedAt: endedAt - probe.durationMs, endedAt,
      }, (id) => `/api/v1/replays/${id}`);
      return replay;
    }
    const abs = (url: string) => (url.startsWith('http') ? url : base + url);

    it('lists a room\'s replays a page at a time and plays one with Range (a <video> can seek)', async () => {
      const anchor = await kit.anchorWithRoom();
      const ids = [];
      for (const p of ['a', 'b', 'c']) ids.push((await addReplay(anchor.roomId, p)).id);
      const p1 = await kit.http.get(`/api/v1/rooms/${anchor.roomId}/replays?limit=2`).expect(200);
      assert.deepEqual(p1.body.replays.map((r: { id: string }) => r.id), [ids[2], ids[1]]);
      assert.equal(p1.body.next, ids[1]);
      const p2 = await kit.http.get(`/api/v1/rooms/${anchor.roomId}/replays?limit=2&before=${p1.body.next}`).expect(200);
      assert.deepEqual(p2.body.replays.map((r: { id: string }) => r.id), [ids[0]]);
      assert.equal(p2.body.next, null);
      await kit.http.get('/api/v1/rooms/999999/replays').expect(404);

      const view = await kit.http.get(`/api/v1/replays/${ids[0]}`).expect(200);
      assert.equal(view.body.segments.length, 1);
      assert.ok(view.body.duration_ms > 5800 && view.body.duration_ms < 6300, `duration ${view.body.duration_ms}`);
      const whole = readFileSync(media.mp4);
      const res = await fetch(abs(view.body.playback_url), { headers: { Range: 'bytes=100-199' } });
      assert.equal(res.status, 206);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), whole.subarray(100, 200));
      const full = await fetch(abs(view.body.playback_url));
      assert.equal(full.status, 200);
      assert.equal(createHash('md5').update(Buffer.from(await full.arrayBuffer())).digest('hex'), createHash('md5').update(whole).digest('hex'));
      const poster = await fetch(abs(view.body.poster_url));
      assert.equal(poster.status, 200);

      if (factory.name === 'local') {
        // onair's own signed URL: a changed key, signature or a past expiry is refused.
        const u = new URL(abs(view.body.playback_url));
        const tampered = new URL(u);
        tampered.searchParams.set('key', 'replays/1/b/0000.mp4');
        assert.equal((await fetch(tampered)).status, 404);
        const expired = new URL(u);
        expired.searchParams.set('exp', String(Date.now() - 1000));
        assert.equal((await fetch(expired)).status, 404);
        const nosig = new URL(u);
        nosig.searchParams.delete('sig');
        assert.equal((await fetch(nosig)).status, 400);
      } else {
        assert.match(view.body.playback_url, /X-Amz-Signature=/);
      }
    });

    it('cuts a keyframe-aligned clip without re-encoding', async () => {
      const anchor = await kit.anchorWithRoom();
      const replay = await addReplay(anchor.roomId, 'a');
      const viewer = await kit.user('viewer');
      await kit.http.post(`/api/v1/replays/${replay.id}/clips`).send({ start: 1, duration: 2 }).expect(401);
      await kit.http.post(`/api/v1/replays/${replay.id}/clips`).set(viewer.auth).send({ start: 1, duration: 0 }).expect(400);
      await kit.http.post(`/api/v1/replays/${replay.id}/clips`).set(viewer.auth).send({ start: 60, duration: 2 }).expect(400);
      const res = await kit.http.post(`/api/v1/replays/${replay.id}/clips`).set(viewer.auth).send({ start: 1.5, duration: 2 }).expect(201);
      assert.equal(res.body.keyframe_aligned, true);
      const clip = Buffer.from(await (await fetch(abs(res.body.url))).arrayBuffer());
      const file = join(media.dir, `clip-${factory.name}.mp4`);
      writeFileSync(file, clip);
      const probe = await probeMedia(file);
      assert.equal(probe.video?.codec, 'h264');
      // Keyframes every second: the cut starts at 1 s (the keyframe before 1.5 s).
      assert.ok(probe.durationMs >= 1900 && probe.durationMs <= 2700, `clip ${probe.durationMs} ms`);
      const again = await kit.http.post(`/api/v1/replays/${replay.id}/clips`).set(viewer.auth).send({ start: 1.5, duration: 2 }).expect(201);
      assert.equal(new URL(abs(again.body.url)).searchParams.get('key') ?? new URL(abs(again.body.url)).pathname.split('/').pop(),
        new URL(abs(res.body.url)).searchParams.get('key') ?? new URL(abs(res.body.url)).pathname.split('/').pop());
      assert.equal((await objects.store.list('clips/')).items.length, 1);
    });

    it('clips cost the control process a copy and an ffmpeg each: at most 2 cut at once (503 clip_busy), ONAIR_RATE_CLIPS per user (429)', async () => {
      // An ffmpeg that takes its time (and cuts nothing): the third cut asked meanwhile is refused, not queued on the machine.
      const slowFfmpeg = join(media.dir, 'slow-ffmpeg.sh');
      writeFileSync(slowFfmpeg, '#!/bin/sh\nsleep 2\nexit 1\n', { mode: 0o755 });
      const slow = await makeKit(set, { media: { ffmpegPath: slowFfmpeg }, rateLimit: { clips: '3/1h' } }, { objects: objects.store });
      try {
        const anchor = await slow.anchorWithRoom();
        const keys = segmentObjectKeys(anchor.roomId, 'slow', 0);
        const v = await objects.store.put(keys.video, { file: media.mp4 });
        const { replay } = await new ReplayStore(slow.ports.db).addSegment({
          sourceEventId: `ev-slow-${anchor.roomId}`, roomId: anchor.roomId, sessionId: null, publisherId: 'slow', segment: 0, objectKey: keys.video, posterKey: null,
          durationMs: 6000, size: v.size, md5: v.md5, videoCodec: 'h264', audioCodec: 'aac', width: 320, height: 180, startedAt: Date.now() - 6000, endedAt: Date.now(),
        }, (id) => `/api/v1/replays/${id}`);
        const users = [await slow.user('viewer'), await slow.user('viewer'), await slow.user('viewer')];
        const answers = await Promise.all(users.map((u, i) => slow.http.post(`/api/v1/replays/${replay.id}/clips`).set(u.auth).send({ start: i + 0.25, duration: 1 })));
        const busy = answers.filter((r) => r.status === 503);
        assert.equal(busy.length, 1, `statuses ${answers.map((r) => r.status).join(', ')}`);
        assert.equal(busy[0]!.body.error.code, 'clip_busy');
        // Per user, whatever the answer: 3 an hour here; the 4th is refused before any work.
        const u = users[0]!;
        for (let i = 0; i < 2; i++) await slow.http.post('/api/v1/replays/999999/clips').set(u.auth).send({ start: 0, duration: 1 }).expect(404);
        const limited = await slow.http.post('/api/v1/replays/999999/clips').set(u.auth).send({ start: 0, duration: 1 }).expect(429);
        assert.equal(limited.body.error.code, 'too_many_clips');
        assert.ok(Number(limited.headers['retry-after']) >= 1);
        await slow.http.post('/api/v1/replays/999999/clips').set(users[1]!.auth).send({ start: 0, duration: 1 }).expect(404);
      } finally {
        await slow.close();
      }
    });

    it('the anchor or an operator deletes a replay and its objects; others may not; retention prunes old ones', async () => {
      const anchor = await kit.anchorWithRoom();
      const other = await kit.anchorWithRoom('Other');
      const viewer = await kit.user('viewer');
      const replay = await addReplay(anchor.roomId, 'a');
      await kit.http.delete(`/api/v1/replays/${replay.id}`).expect(401);
      await kit.http.delete(`/api/v1/replays/${replay.id}`).set(viewer.auth).expect(403);
      const refused = await kit.http.delete(`/api/v1/replays/${replay.id}`).set(other.auth).expect(403);
      assert.equal(refused.body.error.code, 'not_room_owner');
      await kit.http.post(`/api/v1/replays/${replay.id}/clips`).set(viewer.auth).send({ start: 0, duration: 1 }).expect(201);
      await kit.http.delete(`/api/v1/replays/${replay.id}`).set(anchor.auth).expect(204);
      await kit.http.get(`/api/v1/replays/${replay.id}`).expect(404);
      assert.deepEqual((await objects.store.list('')).items, [], 'MP4, poster and clips removed');

      const op = await kit.operator();
      const r2 = await addReplay(anchor.roomId, 'b');
      await kit.http.delete(`/api/v1/replays/${r2.id}`).set(op.auth).expect(204);

      const old = await addReplay(anchor.roomId, 'old', Date.now() - 3 * 86_400_000);
      const fresh = await addReplay(anchor.roomId, 'fresh');
      assert.equal(await kit.control.replays.prune(86_400_000), 1);
      await kit.http.get(`/api/v1/replays/${old.id}`).expect(404);
      await kit.http.get(`/api/v1/replays/${fresh.id}`).expect(200);
      assert.deepEqual((await objects.store.list('')).items.map((i) => i.key), ['replays/' + anchor.roomId + '/fresh/0000.jpg', 'replays/' + anchor.roomId + '/fresh/0000.mp4']);
    });
    it('a show in segments, once joined: one playback URL for the whole show, clips across a boundary, delete removes the joined MP4 too', async () => {
      const anchor = await kit.anchorWithRoom();
      const store = new ReplayStore(kit.ports.db);
      const probe = await probeMedia(media.mp4);
      let replayId = '';
      for (const i of [0, 1]) {
        const keys = segmentObjectKeys(anchor.roomId, 'j', i);
        const v = await objects.store.put(keys.video, { file: media.mp4 });
        ({ replay: { id: replayId } } = await store.addSegment({
          sourceEventId: `ev-j-${i}`, roomId: anchor.roomId, sessionId: null, publisherId: 'j', segment: i, objectKey: keys.video, posterKey: null,
          durationMs: probe.durationMs, size: v.size, md5: v.md5, videoCodec: 'h264', audioCodec: 'aac', width: 320, height: 180,
          startedAt: Date.now() - 12_000 + i * 6000, endedAt: Date.now() - 6000 + i * 6000, ...(i === 1 ? { final: true } : {}),
        }, (id) => `/api/v1/replays/${id}`));
      }
      const before = await kit.http.get(`/api/v1/replays/${replayId}`).expect(200);
      assert.equal(before.body.playback, 'segments');
      assert.equal(before.body.complete, true);
      assert.equal(before.body.joined, null);
      // The transcoder's join (concat demuxer, -c copy), here by hand.
      const list = join(media.dir, `list-${factory.name}.ffconcat`);
      const show = join(media.dir, `show-${factory.name}.mp4`);
      writeFileSync(list, concatListFile([media.mp4, media.mp4]));
      await runFfmpeg(concatArgs(list, show));
      const joined = await objects.store.put(joinedObjectKey(anchor.roomId, 'j'), { file: show });
      const joinedMs = (await probeMedia(show)).durationMs;
      assert.equal(await store.setJoined(replayId, 2, { objectKey: joined.key, size: joined.size, md5: joined.md5, durationMs: joinedMs }), true);
      assert.equal(await store.setJoined(replayId, 2, { objectKey: joined.key, size: 1, md5: '0'.repeat(32), durationMs: 1 }), false, 'a second join changes nothing');

      const view = await kit.http.get(`/api/v1/replays/${replayId}`).expect(200);
      assert.equal(view.body.playback, 'file');
      assert.equal(view.body.joined.size, joined.size);
      assert.ok(Math.abs(view.body.duration_ms - 2 * probe.durationMs) < 150, `duration ${view.body.duration_ms}`);
      assert.deepEqual(view.body.segments.map((x: { offset_ms: number }) => x.offset_ms), [0, probe.durationMs]);
      const bytes = Buffer.from(await (await fetch(abs(view.body.playback_url))).arrayBuffer());
      assert.equal(createHash('md5').update(bytes).digest('hex'), joined.md5, 'playback_url is the joined MP4');

      // A clip across the boundary at 6 s comes from the joined MP4.
      const viewer = await kit.user('viewer');
      const res = await kit.http.post(`/api/v1/replays/${replayId}/clips`).set(viewer.auth).send({ start: 5, duration: 2 }).expect(201);
      assert.equal(res.body.from, 'joined');
      const file = join(media.dir, `clip-joined-${factory.name}.mp4`);
      writeFileSync(file, Buffer.from(await (await fetch(abs(res.body.url))).arrayBuffer()));
      const clip = await probeMedia(file);
      // Keyframe-aligned: the joined file's video starts a few ms after 0, so the keyframe at or
      // before 5 s is the one near 4 s, up to a GOP (1 s) earlier than asked.
      assert.ok(clip.durationMs >= 1900 && clip.durationMs <= 3100, `clip ${clip.durationMs} ms`);

      await kit.http.delete(`/api/v1/replays/${replayId}`).set(anchor.auth).expect(204);
      assert.deepEqual((await objects.store.list('')).items, [], 'segments, joined MP4 and clips removed');
    });
  });
}
