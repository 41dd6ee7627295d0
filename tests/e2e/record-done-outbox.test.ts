import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { missingTool } from '../../core/testing/tools.js';
import { waitFor } from '../../core/testing/wait-for.js';
import type { MediaEvents } from '../../core/media/media-contract.js';
import { publishWithFfmpeg, startStandInControl, type StandInControl } from './media-fixtures.js';

const KEY = 'media-key-for-tests-0123456789';
const root = resolve(import.meta.dirname, '../..');

/**
 * Issue 13: record.done must survive the media process dying between queueing it and control
 * answering it. A real media process (media/main.ts) records a show while control answers every
 * record.done with 503 (so it stays queued, as when control is slow or down), is killed with
 * SIGKILL, and started again: the new process sends the record.done from the outbox in the
 * recordings folder, and removes the entry once control answered. No test hook is compiled in:
 * control's 503 is what holds the event.
 */
describe('record.done outbox across a media process killed with SIGKILL', { skip: missingTool('ffmpeg') }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'onair-outbox-'));
  const recordings = join(dir, 'recordings');
  const children: ChildProcess[] = [];
  let acceptRecordDone = false;
  let refused = 0;
  let control: StandInControl;
  const delivered = () => (control?.callbacks ?? []).filter((c) => c.event === 'record.done').map((c) => c.payload as MediaEvents['record.done']);

  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    await control?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function startMedia(): Promise<{ proc: ChildProcess; rtmpPort: number }> {
    const proc = spawn(process.execPath, ['--import', 'tsx', join(root, 'media', 'main.ts')], {
      cwd: root, stdio: ['ignore', 'pipe', 'inherit'],
      env: {
        PATH: process.env.PATH ?? '', ONAIR_DATA_DIR: join(dir, 'data'), ONAIR_RECORDINGS_DIR: recordings, ONAIR_RECORD: 'true',
        ONAIR_HOST: '127.0.0.1', ONAIR_HTTP_PORT: '0', ONAIR_RTMP_PORT: '0', ONAIR_CONTROL_URL: control.url,
        ONAIR_MEDIA_CALLBACK_KEY: KEY, ONAIR_HLS: 'false', ONAIR_LOG_LEVEL: 'info', ONAIR_SECRET: 'a-test-secret-0123456789',
      },
    });
    children.push(proc);
    const rtmpPort = await new Promise<number>((ok, fail) => {
      const lines = createInterface({ input: proc.stdout! });
      lines.on('line', (line) => {
        try {
          const o = JSON.parse(line) as { msg?: string; rtmp?: number };
          if (o.msg === 'media service listening' && o.rtmp) ok(o.rtmp);
        } catch {
          // not JSON
        }
      });
      proc.once('exit', (code) => fail(new Error(`media exited (${code}) before listening`)));
      setTimeout(() => fail(new Error('media did not start in 60 s')), 60_000).unref();
    });
    return { proc, rtmpPort };
  }

  const outbox = () => (existsSync(join(recordings, '.outbox')) ? readdirSync(join(recordings, '.outbox')).filter((n) => n.endsWith('.json')) : []);

  it('a record.done queued when media is killed is delivered by the next media process, then its outbox entry is removed', { timeout: 240_000 }, async () => {
    control = await startStandInControl(KEY, (path, _body, res) => {
      res.end(path === '/api/v1/hook/on_publish' ? '{"code":0,"data":{"stream_name":"1001","record":true}}' : '0');
      return true;
    }, (c) => {
      if (c.event !== 'record.done' || acceptRecordDone) return 200;
      refused++;
      return 503;
    });
    const first = await startMedia();
    const ff = publishWithFfmpeg(`rtmp://127.0.0.1:${first.rtmpPort}/live/sk_1001`, { seconds: 3 });
    children.push(ff);
    await new Promise((r) => ff.once('exit', r));
    // The show ended: its record.done is queued, and control keeps refusing it.
    await waitFor('record.done refused by control', () => refused >= 1, 60_000);
    assert.equal(outbox().length, 1, 'in the outbox while undelivered');
    first.proc.kill('SIGKILL');
    await new Promise((r) => (first.proc.exitCode !== null || first.proc.signalCode !== null ? r(null) : first.proc.once('exit', r)));
    assert.equal(delivered().length, 0);

    acceptRecordDone = true;
    const second = await startMedia();
    const done = await waitFor('record.done delivered by the new process', () => delivered()[0], 60_000);
    assert.equal(done.streamName, '1001');
    assert.ok(done.path.startsWith(recordings) && existsSync(done.path), done.path);
    assert.ok(done.size > 0);
    await waitFor('outbox emptied', () => outbox().length === 0, 30_000);
    assert.equal(delivered().length, 1);
    second.proc.kill('SIGTERM');
  });
});
