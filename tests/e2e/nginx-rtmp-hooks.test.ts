/**
 * nginx-rtmp standing in for onair's engine (issue 2, hooks for external media servers): Debian's
 * nginx with libnginx-mod-rtmp calls control's on_publish / on_play / on_publish_done. The anchor
 * publishes with the secret key as stream name; on_publish?rename=1 answers 302 with the room id,
 * so nginx-rtmp renames the stream and viewers play /live/{room_id} with a play token.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { missingTool } from '../../core/testing/tools.js';
import { openDatabase } from '../../core/database/database.js';
import { exitWithin, probe, publish, startStack, until, type Stack } from './onair-stack.js';
import { runShowScenario } from './edge-scenario.js';

const RTMP_MODULE = '/usr/lib/nginx/modules/ngx_rtmp_module.so';
const skip = missingTool('nginx', '-v') || missingTool('ffmpeg') || missingTool('ffprobe')
  || (existsSync(RTMP_MODULE) ? false : (() => {
    if (process.env.ONAIR_STRICT === '1') throw new Error('ONAIR_STRICT=1: libnginx-mod-rtmp is not installed');
    return 'libnginx-mod-rtmp is not installed';
  })());

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    }).on('error', reject);
  });
}

const HOOK_SECRET = 'nginx-hook-secret-0123456789';

describe('nginx-rtmp as the media server, authorized by control\'s hooks', { skip }, () => {
  let stack: Stack;
  let nginx: ChildProcess;
  let prefix: string;
  let rtmpPort: number;
  const children: ChildProcess[] = [];

  before(async () => {
    stack = await startStack({ ONAIR_HOOK_SECRET: HOOK_SECRET });
    rtmpPort = await freePort();
    prefix = mkdtempSync(join(tmpdir(), 'onair-nginx-rtmp-'));
    mkdirSync(join(prefix, 'logs'));
    mkdirSync(stack.config.media.recordingsDir!, { recursive: true });
    const hook = `http://127.0.0.1:${stack.httpPort}/api/v1/hook`;
    const secret = `secret=${HOOK_SECRET}`;
    writeFileSync(join(prefix, 'nginx.conf'), `
load_module ${RTMP_MODULE};
${process.getuid?.() === 0 ? 'user root;' : ''}
worker_processes 1;
daemon off;
error_log ${prefix}/logs/error.log warn;
pid ${prefix}/nginx.pid;
events { worker_connections 256; }
rtmp {
  server {
    listen 127.0.0.1:${rtmpPort};
    application live {
      live on;
      on_publish ${hook}/on_publish?${secret}&rename=1;
      on_publish_done ${hook}/on_unpublish?${secret};
      on_play ${hook}/on_play?${secret};
      on_play_done ${hook}/on_play_done?${secret};
      record all;
      record_path ${stack.config.media.recordingsDir};
      record_unique on;
      on_record_done ${hook}/on_dvr?${secret};
    }
  }
}
`);
    nginx = spawn('nginx', ['-p', prefix, '-c', join(prefix, 'nginx.conf')], { stdio: 'ignore' });
    await until('nginx-rtmp listening', () => new Promise<boolean>((resolve) => {
      const s = new Socket().once('connect', () => { s.destroy(); resolve(true); }).once('error', () => resolve(false));
      s.connect(rtmpPort, '127.0.0.1');
    }), 10_000);
  });
  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    // SIGTERM: nginx's master stops its workers before it exits (a SIGKILLed master left its
    // workers running after the suite). SIGKILL only if it has not exited after 5 s.
    if (nginx && nginx.exitCode === null && nginx.signalCode === null) {
      const exited = new Promise((resolve) => nginx!.once('exit', resolve));
      nginx.kill('SIGTERM');
      const timer = setTimeout(() => nginx!.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    await stack?.close();
    if (prefix) rmSync(prefix, { recursive: true, force: true });
  });

  it('publishes by key, plays by room id with a token, and refuses a wrong key and a missing token', async () => {
    const anchor = await stack.user('anchor');
    const r = (await stack.call('POST', '/rooms', { title: 'via nginx-rtmp' }, anchor.token)).body;

    const wrong = publish(`rtmp://127.0.0.1:${rtmpPort}/live/sk_wrong-key`);
    children.push(wrong);
    assert.notEqual(await exitWithin(wrong, 5000), 'running', 'nginx-rtmp must drop a publish control refused');

    const ffmpeg = publish(`rtmp://127.0.0.1:${rtmpPort}/live/${r.stream_key}`);
    children.push(ffmpeg);
    await until('room live', async () => (await stack.call('GET', `/rooms/${r.id}`)).body.is_live === true, 15_000);

    const { token } = (await stack.call('GET', `/rooms/${r.id}/play-token`)).body;
    const streams = await probe(`rtmp://127.0.0.1:${rtmpPort}/live/${r.id}?token=${encodeURIComponent(token)}`);
    assert.deepEqual(streams.map((s) => s.codec_name).sort(), ['aac', 'h264'], 'the stream is played by the room id');
    assert.deepEqual(await probe(`rtmp://127.0.0.1:${rtmpPort}/live/${r.id}`, 8000), [], 'no token, no play');
    assert.deepEqual(await probe(`rtmp://127.0.0.1:${rtmpPort}/live/${r.stream_key}?token=${encodeURIComponent(token)}`, 8000), [], 'the key is not a play name');

    // The recording nginx-rtmp finishes is reported through on_record_done: a file inside the
    // recordings directory, so it becomes a recording.finished event and a recording row.
    ffmpeg.kill('SIGINT');
    await ffmpeg.exited;
    const db = await openDatabase({ url: undefined, dataDir: stack.dataDir });
    try {
      const rows = await until('recording row', async () => {
        const found = await db.sequelize.query<{ video_url: string; room_id: string | number }>('SELECT video_url, room_id FROM live_records', { type: 'SELECT' as never }) as unknown as Array<{ video_url: string; room_id: string | number }>;
        return found.length ? found : null;
      }, 15_000);
      assert.equal(String(rows[0]!.room_id), r.id);
      assert.ok(rows[0]!.video_url.startsWith(stack.config.media.recordingsDir!), rows[0]!.video_url);
    } finally {
      await db.close();
    }
  });

  // Issue 10: the same show as through the in-process engine (edge-in-process.test.ts). Before it,
  // followers were never told (the hook marked the session live itself) and viewers were not counted.
  // nginx-rtmp cannot tell a publish that never sends media: its on_publish is the start.
  it('notifies followers and counts its viewers (nginx-rtmp hooks)', async () => {
    await runShowScenario({
      call: stack.call,
      user: (role) => stack.user(role),
      publish(room) {
        const ffmpeg = publish(`rtmp://127.0.0.1:${rtmpPort}/live/${room.stream_key}`);
        children.push(ffmpeg);
        return { async stop() { ffmpeg.kill('SIGKILL'); await ffmpeg.exited; } };
      },
      async watch(roomId, token) {
        await probe(`rtmp://127.0.0.1:${rtmpPort}/live/${roomId}?token=${encodeURIComponent(token)}`);
      },
    });
  });

  it('refuses hook calls without the secret in the URL, and recordings outside the recordings directory', async () => {
    const form = (fields: Record<string, string>) => ({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
    const hook = `http://127.0.0.1:${stack.httpPort}/api/v1/hook`;
    const anchor = await stack.user('anchor');
    const r = (await stack.call('POST', '/rooms', { title: 'forged hooks' }, anchor.token)).body;
    const publish = { call: 'publish', app: 'live', name: r.stream_key, addr: '10.0.0.9', clientid: '1', type: 'live' };
    assert.equal((await fetch(`${hook}/on_publish`, form(publish))).status, 401);
    assert.equal((await fetch(`${hook}/on_publish?secret=guess-guess-guess-guess`, form(publish))).status, 401);
    const dvr = { call: 'record_done', app: 'live', name: r.id, path: '/etc/shadow', addr: '10.0.0.9', clientid: '1' };
    assert.equal((await fetch(`${hook}/on_dvr`, form(dvr))).status, 401);
    assert.equal((await fetch(`${hook}/on_dvr?secret=${HOOK_SECRET}`, form(dvr))).status, 400);
    assert.equal((await stack.call('GET', `/rooms/${r.id}`)).body.is_live, false);
  });
});
