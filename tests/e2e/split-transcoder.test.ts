/**
 * The transcoder running alone against the split stack, as compose.yaml runs it: control and media
 * as separate services (media's events reach control as signed HTTP callbacks), and
 * `transcoder/main.ts` as a process of its own on the same database, bus, object store and
 * recordings folder. A show pushed with ffmpeg becomes a replay the API lists and serves.
 * Embedded set (SQLite file, database bus, local folder) and cluster set (MariaDB, Redis streams,
 * MinIO client on s3rver).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { loadConfig } from '../../core/config/load.js';
import { createCache } from '../../core/cache/index.js';
import { silentLogger } from '../../core/logging/logger.js';
import type { MediaControl } from '../../core/media/media-contract.js';
import { HttpMediaControl } from '../../core/media/http-media-control.js';
import { missingTool } from '../../core/testing/tools.js';
import { spawnRole, waitForRole } from '../../core/testing/role-process.js';
import { probeMedia } from '../../core/ffmpeg/probe.js';
import { createControl } from '../../control/main.js';
import { startMediaService } from '../../media/main.js';
import { transcoderStackSets } from '../../transcoder/testing/transcoder-stack.js';
import { publish, until } from './onair-stack.js';

const MEDIA_KEY = 'shared-media-key-for-the-split-transcoder';
const skip = missingTool('ffmpeg') || missingTool('ffprobe');
const sets = transcoderStackSets();
after(() => Promise.all(sets.map((s) => s.close())));

for (const set of sets) {
  describe(`transcoder alone against the split stack (${set.name})`, { skip }, () => {
    it('a show pushed to media becomes a replay made by the separate transcoder process', async () => {
      const stack = await set.make();
      const log = silentLogger();
      const cleanups: Array<() => Promise<unknown> | unknown> = [];
      try {
        const controlConfig = loadConfig({ ...stack.env, ONAIR_LOG_LEVEL: 'silent', ONAIR_RTMP_PORT: '0', ONAIR_MEDIA_CALLBACK_KEY: MEDIA_KEY, ONAIR_RATE_LIMITS: 'false' });
        const cache = createCache({});
        let remote: MediaControl | undefined;
        const control = createControl({
          config: controlConfig, log, db: stack.db, cache, bus: stack.bus, objects: stack.objects, metrics: new Registry(), refusalDelayMs: 0,
          media: { kickPublisher: async (n) => remote!.kickPublisher(n), kickViewer: async (v) => remote!.kickViewer(v), listStreams: async () => remote!.listStreams() },
        });
        await control.bootstrap();
        const server = createServer((req, res) => control.handle(req, res));
        await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
        const controlUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
        cleanups.push(async () => { await control.close(); server.closeAllConnections(); server.close(); await cache.close(); });

        const media = await startMediaService(loadConfig({
          ONAIR_DATA_DIR: join(stack.config.dataDir, 'media'), ONAIR_RECORDINGS_DIR: stack.recordingsDir, ONAIR_RECORD: 'true',
          ONAIR_HTTP_PORT: '0', ONAIR_RTMP_PORT: '0', ONAIR_CONTROL_URL: controlUrl, ONAIR_MEDIA_CALLBACK_KEY: MEDIA_KEY, ONAIR_HLS: 'false', ONAIR_LOG_LEVEL: 'silent',
        }), log);
        cleanups.unshift(() => media.close());
        remote = new HttpMediaControl({ baseUrl: `http://127.0.0.1:${media.httpPort}`, key: MEDIA_KEY });
        controlConfig.rtmp.port = media.rtmpPort;

        const transcoder = spawnRole('transcoder/main.ts', stack.env);
        cleanups.unshift(() => transcoder.child.kill('SIGKILL'));
        await waitForRole(transcoder, 'the transcoder to start', (out) => out.includes('transcoder consuming'));

        const api = async (method: string, path: string, body?: unknown, token?: string) => {
          const res = await fetch(`${controlUrl}/api/v1${path}`, {
            method, headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
            body: body ? JSON.stringify(body) : undefined,
          });
          return { status: res.status, body: await res.json() as any };
        };
        await api('POST', '/auth/register', { username: 'splitanchor', password: 'correct-horse-battery', role: 'anchor' });
        const token = (await api('POST', '/auth/login', { username: 'splitanchor', password: 'correct-horse-battery' })).body.token as string;
        const room = (await api('POST', '/rooms', { title: 'split show' }, token)).body;
        const start = await api('POST', '/live/start', { room_id: room.id }, token);
        assert.equal(start.status, 200, JSON.stringify(start.body));
        const ff = publish(start.body.push_url.replace(/^rtmp:\/\/([^/:]+):\d+\//, `rtmp://127.0.0.1:${media.rtmpPort}/`));
        cleanups.unshift(() => ff.kill('SIGKILL'));
        await until('live', async () => (await api('GET', `/rooms/${room.id}`)).body.is_live === true, 15_000);
        await new Promise((r) => setTimeout(r, 3000));
        ff.kill('SIGINT');
        await ff.exited;

        const list = await until('the replay', async () => {
          const res = await api('GET', `/rooms/${room.id}/replays`);
          return res.status === 200 && res.body.replays.length === 1 ? res.body : null;
        }, 60_000);
        // The child logs it right after committing the row the API just listed: its stdout may arrive a moment later.
        await until('the separate transcoder process made it', () => transcoder.output().includes('replay segment ready'), 10_000);
        const view = await api('GET', `/replays/${list.replays[0].id}`);
        const url = view.body.playback_url.startsWith('http') ? view.body.playback_url : controlUrl + view.body.playback_url;
        const probe = await probeMedia(url);
        assert.equal(probe.video?.codec, 'h264');
        assert.ok(probe.durationMs > 1500, `duration ${probe.durationMs}`);
      } finally {
        for (const c of cleanups) await c();
        await stack.close();
      }
    });
  });
}
