/**
 * The distributed deployment in one test: control and media as separate services that talk only
 * over HTTP, as compose.yaml runs them. Media asks control's hooks before any publish or play,
 * reports events as signed callbacks into control's durable bus, and control kicks through
 * media's signed control API.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { loadConfig } from '../../core/config/load.js';
import { openDatabase, type Database } from '../../core/database/database.js';
import { createCache } from '../../core/cache/index.js';
import type { Cache } from '../../core/cache/cache.port.js';
import { createEventBus } from '../../core/event-bus/index.js';
import type { EventBus } from '../../core/event-bus/event-bus.port.js';
import type { BusEvents } from '../../core/events/bus-events.js';
import { silentLogger } from '../../core/logging/logger.js';
import type { MediaControl } from '../../core/media/media-contract.js';
import { HttpMediaControl } from '../../core/media/http-media-control.js';
import { missingTool } from '../../core/testing/tools.js';
import { signPlayToken } from '../../core/tokens/play-token.js';
import { createControl, type Control } from '../../control/main.js';
import { startMediaService, type MediaService } from '../../media/main.js';
import { exitWithin, probe, publish, until } from './onair-stack.js';
import { publishHevc, runShowScenario } from './edge-scenario.js';

const MEDIA_KEY = 'shared-media-key-for-the-split-test';
const skip = missingTool('ffmpeg') || missingTool('ffprobe');

const PLAY_TOKEN_KEY = 'shared-play-token-key-for-the-split-test';

// compose.yaml gives both services ONAIR_PLAY_TOKEN_KEY (media checks tokens itself); without it
// media asks control's on_play hook for every viewer. Both must refuse and admit the same viewers.
for (const playCheck of ['on_play hook', 'play-token key'] as const) describe(`control and media as separate services (plays checked by ${playCheck})`, { skip }, () => {
  const playKeyEnv = playCheck === 'play-token key' ? { ONAIR_PLAY_TOKEN_KEY: PLAY_TOKEN_KEY } : {};
  const dirs: string[] = [];
  let db: Database;
  let cache: Cache;
  let bus: EventBus<BusEvents>;
  let control: Control;
  let controlServer: Server;
  let controlUrl: string;
  let media: MediaService;
  /** What control signs play tokens with: the play-token key when set, else its secret. */
  let playTokenSigner: string;
  const children: Array<{ kill(signal?: NodeJS.Signals): boolean }> = [];

  before(async () => {
    const tmp = () => { const d = mkdtempSync(join(tmpdir(), 'onair-split-')); dirs.push(d); return d; };
    const log = silentLogger();
    const controlConfig = loadConfig({ ONAIR_DATA_DIR: tmp(), ONAIR_HTTP_PORT: '0', ONAIR_RTMP_PORT: '0', ONAIR_MEDIA_CALLBACK_KEY: MEDIA_KEY, ONAIR_LOG_LEVEL: 'silent', ...playKeyEnv });
    playTokenSigner = controlConfig.live.playTokenKey ?? controlConfig.secret!;
    db = await openDatabase({ url: 'sqlite::memory:', dataDir: controlConfig.dataDir });
    await db.migrate();
    cache = createCache({});
    bus = createEventBus<BusEvents>({ db });
    // Media's URL is known only once it listens; control reaches it through this forwarder.
    let remote: MediaControl | undefined;
    const mediaControl: MediaControl = {
      kickPublisher: async (n) => remote!.kickPublisher(n),
      kickViewer: async (v) => remote!.kickViewer(v),
      listStreams: async () => remote!.listStreams(),
    };
    control = createControl({ config: controlConfig, log, db, cache, bus, media: mediaControl, metrics: new Registry(), refusalDelayMs: 0 });
    await control.bootstrap();
    controlServer = createServer((req, res) => control.handle(req, res));
    await new Promise<void>((r) => controlServer.listen(0, '127.0.0.1', () => r()));
    controlUrl = `http://127.0.0.1:${(controlServer.address() as { port: number }).port}`;

    const mediaConfig = loadConfig({
      ONAIR_DATA_DIR: tmp(), ONAIR_HTTP_PORT: '0', ONAIR_RTMP_PORT: '0', ONAIR_CONTROL_URL: controlUrl,
      ONAIR_MEDIA_CALLBACK_KEY: MEDIA_KEY, ONAIR_HLS: 'false', ONAIR_LOG_LEVEL: 'silent', ...playKeyEnv,
    });
    media = await startMediaService(mediaConfig, log);
    remote = new HttpMediaControl({ baseUrl: `http://127.0.0.1:${media.httpPort}`, key: MEDIA_KEY });
    controlConfig.rtmp.port = media.rtmpPort; // push URLs name media's RTMP port
  });
  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    await media?.close();
    await control?.close();
    controlServer?.closeAllConnections();
    controlServer?.close();
    await bus?.close();
    await cache?.close();
    await db?.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  const api = async (method: string, path: string, body?: unknown, token?: string) => {
    const res = await fetch(`${controlUrl}/api/v1${path}`, {
      method,
      headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: await res.json() as any };
  };

  it('publishes through control\'s hook, goes live from signed callbacks, plays with a token, and closes through the kick API', async () => {
    await api('POST', '/auth/register', { username: 'split_anchor', password: 'a-long-password', role: 'anchor' });
    const token = (await api('POST', '/auth/login', { username: 'split_anchor', password: 'a-long-password' })).body.token;
    const r = (await api('POST', '/rooms', { title: 'split' }, token)).body;

    // Media is heard because it sends the hook secret (derived from the shared media key); anyone
    // else calling control's hooks directly is not, even with a valid stream key.
    const direct = await fetch(`${controlUrl}/api/v1/hook/on_publish`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'on_publish', client_id: 'x', ip: '10.0.0.1', app: 'live', stream: r.stream_key, param: '' }),
    });
    assert.equal(direct.status, 401);

    const refused = publish(`rtmp://127.0.0.1:${media.rtmpPort}/live/sk_unknown-key`);
    children.push(refused);
    assert.notEqual(await exitWithin(refused, 5000), 'running', 'control refuses an unknown key through the hook');

    const ffmpeg = publish(r.push_url);
    children.push(ffmpeg);
    await until('room live in control', async () => (await api('GET', `/rooms/${r.id}`)).body.is_live === true, 15_000);

    const play = (await api('GET', `/rooms/${r.id}/play-token`)).body;
    const flvUrl = `http://127.0.0.1:${media.httpPort}/live/${r.id}.flv?token=${encodeURIComponent(play.token)}`;
    const streams = await probe(flvUrl);
    assert.deepEqual(streams.map((s) => s.codec_name).sort(), ['aac', 'h264']);
    assert.equal((await fetch(`http://127.0.0.1:${media.httpPort}/live/${r.id}.flv?token=forged`)).status, 403);
    const expired = signPlayToken(playTokenSigner, { room: r.id, exp: Math.floor(Date.now() / 1000) - 5 });
    assert.equal((await fetch(`http://127.0.0.1:${media.httpPort}/live/${r.id}.flv?token=${expired}`)).status, 403, 'an expired token is refused');
    const res = await fetch(`http://127.0.0.1:${media.httpPort}/live/${r.id}.flv`);
    assert.equal(res.status, 401, 'no token');

    const close = await api('POST', '/live/close', { room_id: r.id }, token);
    assert.equal(close.status, 200, JSON.stringify(close.body));
    assert.notEqual(await exitWithin(ffmpeg, 2000), 'running', 'media drops the publisher on control\'s signed kick');
    assert.equal((await api('GET', `/rooms/${r.id}`)).body.is_live, false);
  });

  // Issue 10: the same show as through the in-process engine (edge-in-process.test.ts). Before it,
  // this deployment turned live at the hook (before any media), and lost every viewer.
  it('is live only once media flows, notifies followers, and counts its viewers (media\'s signed callbacks)', async () => {
    let n = 0;
    const pushUrl = (room: { push_url: string }) => room.push_url.replace(/^rtmp:\/\/([^/:]+):\d+\//, `rtmp://$1:${media.rtmpPort}/`);
    await runShowScenario({
      call: (method, path, body, token) => api(method, path, body, token),
      async user(role) {
        const username = `split_${role}_${++n}_${process.pid}`;
        const reg = await api('POST', '/auth/register', { username, password: 'a-long-password', role });
        const login = await api('POST', '/auth/login', { username, password: 'a-long-password' });
        return { id: String(reg.body.id), token: login.body.token as string };
      },
      publishWithoutMedia: (room) => publishHevc(pushUrl(room)),
      publish(room) {
        const ffmpeg = publish(pushUrl(room));
        children.push(ffmpeg);
        return { async stop() { ffmpeg.kill('SIGKILL'); await ffmpeg.exited; } };
      },
      async watch(roomId, token) {
        await probe(`http://127.0.0.1:${media.httpPort}/live/${roomId}.flv?token=${encodeURIComponent(token)}`);
      },
    });
  });
});
