/**
 * The nginx edge (nginx/nginx.conf, rendered for the test) in front of the all-in-one stack:
 * API calls, HTTP-FLV, WS-FLV and HLS with play tokens pass through it; a missing token is still
 * refused; upstream connections are reused; metrics stay private; and the access log never holds
 * a play token or a stream key.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { missingTool } from '../../core/testing/tools.js';
import { whepPlay } from '../../media/servers/whep/whep-client.js';
import { startEdge, testNginxConf, type Edge } from './edge-kit.js';
import { probe, publish, startStack, until, type Stack } from './onair-stack.js';

const skip = missingTool('nginx', '-v') || missingTool('ffmpeg') || missingTool('ffprobe');

describe('nginx edge in front of onair', { skip }, () => {
  let stack: Stack;
  let edge: Edge;
  const children: Array<{ kill(signal?: NodeJS.Signals): boolean }> = [];
  let room: { id: string; stream_key: string };
  let play: { token: string; flv_url: string; hls_url: string; ws_url: string; whep_url: string };
  let backendConnections = 0;

  /** JSON call to the API through the edge. */
  async function api(method: string, path: string, body?: unknown, token?: string) {
    const res = await fetch(`${edge.origin}/api/v1${path}`, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  }
  /** A play URL as the API gave it (naming the origin) pointed at the edge instead. */
  const viaEdge = (url: string) => {
    const u = new URL(url);
    u.host = new URL(edge.origin).host;
    return u.toString();
  };

  before(async () => {
    stack = await startStack({ ONAIR_HLS: 'true' });
    stack.server.on('connection', () => backendConnections++);
    edge = await startEdge(stack.httpPort);
  });
  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    await edge?.close();
    await stack?.close();
  });

  it('the rendered config passes nginx -t', () => {
    const res = testNginxConf(stack.httpPort);
    assert.equal(res.status, 0, res.output);
    assert.match(res.output, /syntax is ok/);
  });

  it('passes API calls (register, login, create room, start) and reuses upstream connections', async () => {
    const before = backendConnections;
    const name = `edge_anchor_${process.pid}`;
    const reg = await api('POST', '/auth/register', { username: name, password: 'correct-horse-battery', role: 'anchor' });
    assert.equal(reg.status, 201, JSON.stringify(reg.body));
    const login = await api('POST', '/auth/login', { username: name, password: 'correct-horse-battery' });
    assert.equal(login.status, 200);
    const created = await api('POST', '/rooms', { title: 'through the edge' }, login.body.token);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    room = created.body;
    const start = await api('POST', '/live/start', { room_id: room.id }, login.body.token);
    assert.equal(start.status, 200, JSON.stringify(start.body));
    for (let i = 0; i < 20; i++) assert.equal((await api('GET', `/rooms/${room.id}`)).status, 200);
    assert.equal((await api('GET', '/rooms/not-a-room')).status >= 400, true);
    // 24 requests; keepalive to the upstream means a handful of connections, not one per request.
    const opened = backendConnections - before;
    assert.ok(opened <= 4, `nginx opened ${opened} upstream connections for 24 API calls`);

    // RTMP does not go through the edge: the encoder pushes to media directly.
    children.push(publish(stack.fixPort(start.body.push_url)));
    await until('room live', async () => (await api('GET', `/rooms/${room.id}`)).body.is_live === true, 15_000);
    const token = await api('GET', `/rooms/${room.id}/play-token`);
    assert.equal(token.status, 200);
    play = token.body;
  });

  it('plays HTTP-FLV through the edge with a token (h264 + aac)', async () => {
    const streams = await probe(viaEdge(play.flv_url));
    assert.deepEqual(streams.map((s) => s.codec_name).sort(), ['aac', 'h264']);
  });

  it('still refuses a missing or forged token through the edge', async () => {
    const base = `${edge.origin}/live/${room.id}.flv`;
    assert.equal((await fetch(base)).status, 401);
    assert.equal((await fetch(`${base}?token=forged`)).status, 403);
    assert.equal((await fetch(`${edge.origin}/live/${room.id}/index.m3u8`)).status, 401);
  });

  it('passes WHEP signalling through the edge (the media UDP goes direct): 201, connected, DELETE; 401 without a token', async () => {
    const whep = await whepPlay(viaEdge(play.whep_url));
    try {
      assert.equal(whep.status, 201, whep.body);
      assert.ok(await whep.connected(15_000), 'the peer connects');
      assert.equal((await fetch(`${edge.origin}${whep.location}`, { method: 'DELETE' })).status, 200);
    } finally {
      await whep.close();
    }
    assert.equal((await fetch(`${edge.origin}/live/${room.id}/whep`, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: 'v=0' })).status, 401);
  });

  it('upgrades WS-FLV through the edge and delivers FLV bytes', async () => {
    const ws = new WebSocket(viaEdge(play.ws_url));
    try {
      const first = await new Promise<Buffer>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no WS-FLV data within 10 s')), 10_000);
        ws.once('message', (data: Buffer) => { clearTimeout(timer); resolve(data); });
        ws.once('error', (err) => { clearTimeout(timer); reject(err); });
        ws.once('unexpected-response', (_req, res) => { clearTimeout(timer); reject(new Error(`WS upgrade refused: ${res.statusCode}`)); });
      });
      assert.equal(first.subarray(0, 3).toString('latin1'), 'FLV');
    } finally {
      ws.terminate();
    }
  });

  it('serves the HLS playlist and a segment through the edge with a token', async () => {
    const playlistUrl = viaEdge(play.hls_url);
    const playlist = await until('HLS playlist with a segment', async () => {
      const res = await fetch(playlistUrl);
      const text = await res.text();
      return res.status === 200 && /\.ts/.test(text) ? text : ''; // '' = not ready yet
    }, 20_000);
    assert.match(playlist, /^#EXTM3U/);
    const segment = playlist.split('\n').find((l) => l && !l.startsWith('#'))!;
    assert.match(segment, /token=/, 'segment URIs carry the token');
    const res = await fetch(new URL(segment, playlistUrl));
    assert.equal(res.status, 200);
    const bytes = Buffer.from(await res.arrayBuffer());
    assert.equal(bytes[0], 0x47, 'an MPEG-TS segment starts with the sync byte');
  });

  it('serves the web pages, their scripts and a live frame through the edge', async () => {
    for (const path of ['/', `/watch/${room.id}`, '/login', '/studio', '/admin', '/me']) {
      const res = await fetch(`${edge.origin}${path}`);
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get('content-type') ?? '', /text\/html/, path);
      assert.match(res.headers.get('content-security-policy') ?? '', /script-src 'self'/, path);
    }
    for (const path of ['/app.js', '/admin.js', '/me.js', '/notifications.js', '/vendor/mpegts.js', '/app.css']) assert.equal((await fetch(`${edge.origin}${path}`)).status, 200, path);
    const frame = await until('a frame of the live room through the edge', async () => {
      const res = await fetch(`${edge.origin}/live/${room.id}/frame.jpg`);
      return res.status === 200 ? res : undefined;
    }, 15_000, 500);
    assert.equal(frame.headers.get('content-type'), 'image/jpeg');
    const jpeg = Buffer.from(await frame.arrayBuffer());
    assert.equal(jpeg.readUInt16BE(0), 0xffd8, 'a JPEG');
  });

  it('keeps /metrics private and /healthz public', async () => {
    assert.equal((await fetch(`${edge.origin}/metrics`)).status, 404);
    assert.equal((await fetch(`http://127.0.0.1:${stack.httpPort}/metrics`)).status, 200, 'the origin still serves metrics');
    assert.equal((await fetch(`${edge.origin}/healthz`)).status, 200);
  });

  it('logs requests without play tokens or stream keys', async () => {
    // nginx writes a line when a request ends: the HTTP-FLV probe and the WS-FLV session are over.
    const log = await until('access log lines for FLV, WS-FLV and HLS', () => {
      const text = edge.accessLog();
      return /GET \/live\/\d+\.flv" 200/.test(text) && /GET \/live\/\d+\.flv" 101/.test(text) && /index\.m3u8" 200/.test(text) ? text : '';
    }, 5_000);
    assert.match(log, /"GET \/live\/\d+\.flv" 401/);
    assert.match(log, /"POST \/api\/v1\/auth\/login" 200/);
    for (const [what, text] of [['access log', log], ['error log', edge.errorLog()]] as const) {
      assert.ok(!text.includes('token='), `${what} holds a token= query`);
      assert.ok(!text.includes(play.token), `${what} holds a play token`);
      assert.ok(!text.includes(room.stream_key), `${what} holds the stream key`);
      assert.ok(!text.includes('txSecret'), `${what} holds a push secret`);
    }
  });
});
