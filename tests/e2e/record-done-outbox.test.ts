import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { AddressInfo } from 'node:net';
import { missingTool } from '../../core/testing/tools.js';
import { waitFor } from '../../core/testing/wait-for.js';
import { verifyMediaCallback } from '../../core/callbacks/media-callback-signature.js';
import { mediaHookSecret } from '../../core/callbacks/hook-secret.js';
import type { MediaEvents } from '../../core/media/media-contract.js';
import { publishWithFfmpeg } from './media-fixtures.js';

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
  const delivered: MediaEvents['record.done'][] = [];
  let refused = 0;
  const control = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      if (req.url === '/api/v1/callback/media') {
        const check = verifyMediaCallback(KEY, req.headers['x-onair-timestamp'] as string, req.headers['x-onair-signature'] as string, raw);
        if (!check.ok) return void res.writeHead(401).end();
        const body = JSON.parse(raw.toString()) as { event: string; payload: MediaEvents['record.done'] };
        if (body.event === 'record.done') {
          if (!acceptRecordDone) {
            refused++;
            return void res.writeHead(503).end('{}');
          }
          delivered.push(body.payload);
        }
        return void res.writeHead(200).end('{}');
      }
      const url = new URL(req.url ?? '/', 'http://control');
      if (url.searchParams.get('secret') !== mediaHookSecret(KEY)) return void res.writeHead(401).end('{"code":401}');
      if (url.pathname === '/api/v1/hook/on_publish') return void res.end('{"code":0,"data":{"stream_name":"1001","record":true}}');
      res.end('0');
    });
  });

  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    await new Promise((r) => control.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  async function startMedia(): Promise<{ proc: ChildProcess; rtmpPort: number }> {
    const port = (control.address() as AddressInfo).port;
    const proc = spawn(process.execPath, ['--import', 'tsx', join(root, 'media', 'main.ts')], {
      cwd: root, stdio: ['ignore', 'pipe', 'inherit'],
      env: {
        PATH: process.env.PATH ?? '', ONAIR_DATA_DIR: join(dir, 'data'), ONAIR_RECORDINGS_DIR: recordings, ONAIR_RECORD: 'true',
        ONAIR_HOST: '127.0.0.1', ONAIR_HTTP_PORT: '0', ONAIR_RTMP_PORT: '0', ONAIR_CONTROL_URL: `http://127.0.0.1:${port}`,
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
    await new Promise<void>((r) => control.listen(0, '127.0.0.1', r));
    const first = await startMedia();
    const ff = publishWithFfmpeg(`rtmp://127.0.0.1:${first.rtmpPort}/live/sk_1001`, { seconds: 3 });
    children.push(ff);
    await new Promise((r) => ff.once('exit', r));
    // The show ended: its record.done is queued, and control keeps refusing it.
    await waitFor('record.done refused by control', () => refused >= 1, 60_000);
    assert.equal(outbox().length, 1, 'in the outbox while undelivered');
    first.proc.kill('SIGKILL');
    await new Promise((r) => (first.proc.exitCode !== null || first.proc.signalCode !== null ? r(null) : first.proc.once('exit', r)));
    assert.equal(delivered.length, 0);

    acceptRecordDone = true;
    const second = await startMedia();
    const done = await waitFor('record.done delivered by the new process', () => delivered[0], 60_000);
    assert.equal(done.streamName, '1001');
    assert.ok(done.path.startsWith(recordings) && existsSync(done.path), done.path);
    assert.ok(done.size > 0);
    await waitFor('outbox emptied', () => outbox().length === 0, 30_000);
    assert.equal(delivered.length, 1);
    second.proc.kill('SIGTERM');
  });
});
