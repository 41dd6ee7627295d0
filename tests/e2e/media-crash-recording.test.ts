/**
 * A media process killed with SIGKILL in the middle of a show recorded in segments: the segment it
 * was writing is not lost. The next media process on the same recordings folder finds the file's
 * `.open` marker, closes the truncated FLV out and announces it as record.done (`final`), and
 * ffmpeg remuxes it into an MP4 (what the transcoder does next).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { missingTool } from '../../core/testing/tools.js';
import { waitFor } from '../../core/testing/wait-for.js';
import { loggedPort, spawnRole, waitForRole, type RoleProcess } from '../../core/testing/role-process.js';
import type { MediaEvents } from '../../core/media/media-contract.js';
import { remuxArgs } from '../../core/ffmpeg/args.js';
import { runFfmpeg } from '../../core/ffmpeg/process.js';
import { probeMedia } from '../../core/ffmpeg/probe.js';
import { publishWithFfmpeg, startStandInControl, type StandInControl } from './media-fixtures.js';

const skip = missingTool('ffmpeg') || missingTool('ffprobe');
const KEY = 'media-key-for-tests-0123456789';

describe('media killed with SIGKILL mid-show: the open segment is recovered', { skip }, () => {
  let dir: string;
  let control: StandInControl;
  const children: ChildProcess[] = [];
  const roles: RoleProcess[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'onair-media-crash-'));
    control = await startStandInControl(KEY, (path, _body, res) => {
      if (path !== '/api/v1/hook/on_publish') return false;
      res.end('{"code":0,"data":{"stream_name":"1001","record":true}}');
      return true;
    });
  });

  after(async () => {
    for (const c of [...children, ...roles.map((r) => r.child)]) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await control?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function startMedia(): RoleProcess {
    const media = spawnRole('media/main.ts', {
      ONAIR_HOST: '127.0.0.1', ONAIR_DATA_DIR: join(dir, 'data'), ONAIR_SECRET: 'a-test-secret-0123456789',
      ONAIR_HTTP_PORT: '0', ONAIR_RTMP_PORT: '0', ONAIR_MEDIA_CALLBACK_KEY: KEY, ONAIR_LOG_LEVEL: 'info',
      ONAIR_CONTROL_URL: control.url,
      ONAIR_RECORD_SEGMENT: '2s', ONAIR_HLS: 'false', ONAIR_FRAMES: 'false',
    });
    roles.push(media);
    return media;
  }

  const dones = () => control.callbacks.filter((c) => c.event === 'record.done').map((c) => c.payload as MediaEvents['record.done']);

  it('announces the truncated segment as record.done (final) after a restart, and it remuxes to MP4', async () => {
    const first = startMedia();
    const rtmpPort = await waitForRole(first, 'media listening', loggedPort('media service listening', 'rtmp'));
    const ff = publishWithFfmpeg(`rtmp://127.0.0.1:${rtmpPort}/live/sk_1001`, { seconds: 60 });
    children.push(ff);
    // Segment 0 is closed and reported; segment 1 is being written (its marker lies next to it).
    const seg0 = await waitFor('segment 0 reported', () => dones().find((d) => d.segment === 0), 60_000);
    assert.notEqual(seg0.final, true, 'segment 0 is not the last');
    const open1 = seg0.path.replace(/-0000\.flv$/, '-0001.flv');
    await waitFor('segment 1 being written', () => existsSync(`${open1}.open`) && existsSync(open1) && statSync(open1).size > 30_000, 30_000, 20);
    // About a second of media into segment 1 (of 2 s): killed mid-segment.
    await new Promise((r) => setTimeout(r, 1000));
    assert.ok(existsSync(`${open1}.open`) && !existsSync(seg0.path.replace(/-0000\.flv$/, '-0002.flv')), 'still in segment 1');

    first.child.kill('SIGKILL');
    await first.exited;
    ff.kill('SIGKILL');
    assert.equal(dones().some((d) => d.path === open1), false, 'the killed process reported nothing for segment 1');
    const size = statSync(open1).size;

    startMedia();
    const recovered = await waitFor('segment 1 recovered by the next media process', () => dones().find((d) => d.path === open1), 60_000);
    assert.equal(recovered.segment, 1);
    assert.equal(recovered.final, true, 'the crash ended the show: its last segment');
    assert.equal(recovered.publisherId, seg0.publisherId);
    assert.equal(recovered.streamName, '1001');
    assert.equal(recovered.size, size);
    assert.ok(recovered.durationMs > 700, `duration ${recovered.durationMs}`);
    assert.equal(existsSync(`${open1}.open`), false, 'marker removed once announced');

    // What the transcoder does with it: the truncated FLV remuxes to an MP4 of about that length.
    const mp4 = join(dir, 'recovered.mp4');
    await runFfmpeg(remuxArgs(open1, mp4), { timeoutMs: 60_000 });
    const probe = await probeMedia(mp4);
    assert.ok(probe.video, 'video survived');
    assert.ok(Math.abs(probe.durationMs - recovered.durationMs) < 500, `mp4 ${probe.durationMs} ms, announced ${recovered.durationMs} ms`);
  });
});
