/**
 * The CDN-style edge (infra/nginx/edge.conf) with Debian's real nginx, started by the real
 * edge-start.sh, in front of a real onair stack with a real ffmpeg publisher. Control hands out
 * edge-signed URLs in its play-token answer; nginx checks them itself (secure_link, no call back):
 * a signed URL plays (HTTP-FLV, WS-FLV, HLS with segments cached), a forged, tampered, foreign or
 * expired one is refused with 403 by nginx before the origin sees it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import WebSocket from 'ws';
import { missingTool } from '../../core/testing/tools.js';
import { loadConfig } from '../../core/config/load.js';
import { secureLinkHash, verifySecureLink } from '../../core/tokens/secure-link.js';
import { edgePlayUrls } from '../../control/rooms/room-urls.js';
import { probe, publish, startStack, until, type Stack } from '../e2e/onair-stack.js';
import { whepPlay } from '../../media/servers/whep/whep-client.js';
import { EDGE_START, freePort, startEdgeNginx, testEdgeConf, type RunningEdge } from '../e2e/edge-kit.js';

const skip = missingTool('nginx', '-v') || missingTool('ffmpeg') || missingTool('ffprobe');
const SECRET = `edge-test-secret-${process.pid}-abcdef`;

/** The first bytes of a streaming response (then the request is aborted). */
async function firstBytes(url: string, n: number, timeoutMs = 15_000): Promise<{ status: number; bytes: Buffer; headers: Headers }> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  try {
    const res = await fetch(url, { signal: ac.signal });
    if (res.status !== 200 || !res.body) return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()), headers: res.headers };
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      chunks.push(Buffer.from(chunk));
      size += chunk.length;
      if (size >= n) break;
    }
    ac.abort();
    return { status: res.status, bytes: Buffer.concat(chunks), headers: res.headers };
  } finally {
    clearTimeout(timer);
  }
}

describe('edge settings and signing (no servers)', () => {
  it('ONAIR_EDGE_URL and ONAIR_EDGE_SECRET go together, and the secret must be nginx-safe', () => {
    const base = { ONAIR_DATA_DIR: '/tmp/onair-edge-config', ONAIR_SECRET: 'x'.repeat(32) };
    assert.throws(() => loadConfig({ ...base, ONAIR_EDGE_URL: 'https://edge.example.com' }), /ONAIR_EDGE_SECRET/);
    assert.throws(() => loadConfig({ ...base, ONAIR_EDGE_URL: 'https://edge.example.com', ONAIR_EDGE_SECRET: 'has"quote;and$dollar' }), /ONAIR_EDGE_SECRET/);
    assert.throws(() => loadConfig({ ...base, ONAIR_EDGE_URL: 'https://edge.example.com/path', ONAIR_EDGE_SECRET: SECRET }), /ONAIR_EDGE_URL/);
    const config = loadConfig({ ...base, ONAIR_EDGE_URL: 'https://edge.example.com', ONAIR_EDGE_SECRET: SECRET });
    assert.equal(config.edge?.url, 'https://edge.example.com');
    assert.equal(edgePlayUrls(loadConfig(base), '123', 'tok', 2_000_000_000), undefined, 'no edge configured: no edge URLs');
  });

  it('edge URLs carry a secure link over the stream path that expires with the token', () => {
    const config = loadConfig({ ONAIR_DATA_DIR: '/tmp/onair-edge-config', ONAIR_SECRET: 'x'.repeat(32), ONAIR_EDGE_URL: 'https://edge.example.com', ONAIR_EDGE_SECRET: SECRET });
    const urls = edgePlayUrls(config, '42', 'a.b', 2_000_000_000)!;
    const flv = new URL(urls.edge_flv_url);
    assert.equal(flv.origin + flv.pathname, 'https://edge.example.com/live/42.flv');
    assert.equal(flv.searchParams.get('token'), 'a.b');
    assert.equal(verifySecureLink({ uri: '/live/42', md5: flv.searchParams.get('md5')!, expires: flv.searchParams.get('expires')!, secret: SECRET }, 1_900_000_000), 'ok');
    assert.match(urls.edge_ws_url, /^wss:\/\/edge\.example\.com\/live\/42\.flv\?/);
    assert.match(urls.edge_hls_url, /^https:\/\/edge\.example\.com\/live\/42\/index\.m3u8\?/);
  });

  it('edge-start.sh refuses to start nginx without a usable secret', { skip: missingTool('nginx', '-v') }, () => {
    for (const secret of ['', 'short', 'has"quote-and-more-chars', 'has space and more chars']) {
      const res = spawnSync('sh', [EDGE_START, 'true'], { encoding: 'utf8', env: { ...process.env, ONAIR_EDGE_SECRET: secret, EDGE_SECRET_FILE: '/tmp/onair-edge-never/secret.conf' } });
      assert.equal(res.status, 2, `secret ${JSON.stringify(secret)}: ${res.stderr}`);
      assert.match(res.stderr, /ONAIR_EDGE_SECRET/);
    }
  });
});

describe('nginx edge verifying secure links in front of onair', { skip }, () => {
  let stack: Stack;
  let edge: RunningEdge;
  let roomId: string;
  let answer: Record<string, string>;
  const children: Array<{ kill(signal?: NodeJS.Signals): boolean }> = [];

  before(async () => {
    const edgePort = await freePort();
    stack = await startStack({ ONAIR_HLS: 'true', ONAIR_EDGE_URL: `http://127.0.0.1:${edgePort}`, ONAIR_EDGE_SECRET: SECRET });
    edge = await startEdgeNginx(stack.httpPort, edgePort, SECRET);
    const anchor = await stack.user('anchor');
    const room = await stack.call('POST', '/rooms', { title: 'edge' }, anchor.token);
    assert.equal(room.status, 201, JSON.stringify(room.body));
    roomId = room.body.id;
    const start = await stack.call('POST', '/live/start', { room_id: roomId }, anchor.token);
    assert.equal(start.status, 200, JSON.stringify(start.body));
    children.push(publish(stack.fixPort(start.body.push_url)));
    await until('room live', async () => (await stack.call('GET', `/rooms/${roomId}`)).body.is_live === true, 20_000);
    const token = await stack.call('GET', `/rooms/${roomId}/play-token`);
    assert.equal(token.status, 200);
    answer = token.body;
  });
  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    await edge?.close();
    await stack?.close();
  });

  it('the rendered config passes nginx -t when started through edge-start.sh', () => {
    const res = testEdgeConf(stack.httpPort, SECRET);
    assert.equal(res.status, 0, res.output);
    assert.match(res.output, /syntax is ok/);
  });

  it('the play-token answer names the edge, signed', () => {
    for (const key of ['edge_flv_url', 'edge_hls_url', 'edge_ws_url', 'edge_whep_url']) {
      assert.ok(answer[key]?.startsWith(key === 'edge_ws_url' ? edge.origin.replace('http', 'ws') : edge.origin), `${key}: ${answer[key]}`);
      const u = new URL(answer[key]);
      assert.equal(u.searchParams.get('token'), answer.token);
      assert.match(u.searchParams.get('md5')!, /^[A-Za-z0-9_-]{22}$/);
      assert.equal(Number(u.searchParams.get('expires')), Math.floor(Date.parse(answer.expires_at) / 1000));
    }
  });

  it('an edge-verified HTTP-FLV URL plays: FLV header, then h264 + aac', async () => {
    const first = await firstBytes(answer.edge_flv_url, 13);
    assert.equal(first.status, 200);
    assert.equal(first.bytes.subarray(0, 3).toString('latin1'), 'FLV');
    const streams = await probe(answer.edge_flv_url);
    assert.deepEqual(streams.map((s) => s.codec_name).sort(), ['aac', 'h264']);
  });

  it('WHEP through the edge: the signed offer is answered by media and connects, the session URL DELETEs, a forged one gets 403', async () => {
    const play = await whepPlay(answer.edge_whep_url);
    try {
      assert.equal(play.status, 201, play.body);
      assert.ok(await play.connected(15_000), 'the peer connects (media UDP goes direct)');
      const del = await fetch(new URL(play.location!, edge.origin), { method: 'DELETE' });
      assert.equal(del.status, 200);
    } finally {
      await play.close();
    }
    const forged = new URL(answer.edge_whep_url);
    forged.searchParams.set('md5', 'AAAAAAAAAAAAAAAAAAAAAA');
    const bad = await whepPlay(forged.toString());
    assert.equal(bad.status, 403);
    await bad.close();
  });

  it('a forged, tampered, foreign, unsigned or expired URL gets 403 from nginx, never reaching the origin', async () => {
    const good = new URL(answer.edge_flv_url);
    const variant = (edit: (u: URL) => void) => { const u = new URL(good); edit(u); return u.toString(); };
    const nowSec = Math.floor(Date.now() / 1000);
    const expired = nowSec - 60;
    const cases: Array<[string, string]> = [
      ['forged md5', variant((u) => u.searchParams.set('md5', 'AAAAAAAAAAAAAAAAAAAAAA'))],
      ['md5 signed with another secret', variant((u) => u.searchParams.set('md5', secureLinkHash({ uri: `/live/${roomId}`, expires: Number(good.searchParams.get('expires')), secret: 'some-other-secret-0123' })))],
      ['expires pushed later', variant((u) => u.searchParams.set('expires', String(Number(good.searchParams.get('expires')) + 3600)))],
      ['signature of this room on another room', variant((u) => { u.pathname = '/live/999999.flv'; })],
      ['no md5', variant((u) => u.searchParams.delete('md5'))],
      ['no md5, no expires', variant((u) => { u.searchParams.delete('md5'); u.searchParams.delete('expires'); })],
      ['expired (validly signed)', variant((u) => {
        u.searchParams.set('expires', String(expired));
        u.searchParams.set('md5', secureLinkHash({ uri: `/live/${roomId}`, expires: expired, secret: SECRET }));
      })],
    ];
    const hls = new URL(answer.edge_hls_url);
    hls.searchParams.set('md5', 'AAAAAAAAAAAAAAAAAAAAAA');
    cases.push(['forged HLS playlist', hls.toString()]);
    const seg = new URL(answer.edge_hls_url);
    seg.pathname = seg.pathname.replace('index.m3u8', 'seg-0.ts');
    seg.searchParams.delete('md5');
    cases.push(['unsigned HLS segment', seg.toString()]);
    for (const [what, url] of cases) {
      const res = await fetch(url);
      const body = await res.text();
      assert.equal(res.status, 403, `${what}: ${res.status}`);
      assert.match(body, /403 Forbidden/, `${what}: nginx's own 403 page`);
    }
    // nginx logs `upstream=-` when it answered itself: no refusal reached media.
    const log = await until('access log lines of the refusals', () => {
      const lines = edge.accessLog().split('\n').filter((l) => /" 403 /.test(l));
      return lines.length >= cases.length ? lines : undefined;
    }, 5_000);
    for (const line of log) assert.match(line, /upstream=- /, line);
  });

  it('a validly signed URL with a bad play token is still refused by the origin', async () => {
    const u = new URL(answer.edge_flv_url);
    u.searchParams.set('token', 'forged');
    const res = await fetch(u);
    await res.arrayBuffer();
    assert.equal(res.status, 403);
  });

  it('WS-FLV through the edge with the signed URL delivers FLV bytes; unsigned is refused', async () => {
    const ws = new WebSocket(answer.edge_ws_url);
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
    const unsigned = new URL(answer.edge_ws_url);
    unsigned.searchParams.delete('md5');
    const status = await new Promise<number>((resolve, reject) => {
      const bad = new WebSocket(unsigned);
      bad.once('unexpected-response', (_req, res) => { resolve(res.statusCode ?? 0); bad.terminate(); });
      bad.once('open', () => { bad.terminate(); reject(new Error('unsigned WS-FLV was accepted')); });
      bad.once('error', () => undefined);
    });
    assert.equal(status, 403);
  });

  it('HLS: the playlist passes uncached with signed segment URIs; segments are cached by path', async () => {
    const playlistUrl = answer.edge_hls_url;
    const playlist = await until('HLS playlist with a segment', async () => {
      const res = await fetch(playlistUrl);
      const text = await res.text();
      return res.status === 200 && /\.ts/.test(text) ? { text, cache: res.headers.get('x-cache-status') } : undefined;
    }, 30_000);
    assert.match(playlist.text, /^#EXTM3U/);
    assert.equal(playlist.cache, null, 'playlists never go through the cache');
    const segment = playlist.text.split('\n').find((l) => l && !l.startsWith('#'))!;
    const segUrl = new URL(segment, playlistUrl);
    assert.equal(segUrl.searchParams.get('md5'), new URL(playlistUrl).searchParams.get('md5'), 'segment URIs carry the signature');
    assert.equal(segUrl.searchParams.get('token'), answer.token, 'and the token');
    const first = await fetch(segUrl);
    const firstBytes = Buffer.from(await first.arrayBuffer());
    assert.equal(first.status, 200);
    assert.equal(firstBytes[0], 0x47, 'an MPEG-TS segment starts with the sync byte');
    assert.equal(first.headers.get('x-cache-status'), 'MISS');
    // Another viewer (another token) gets the same segment from the edge's cache.
    const other = (await stack.call('GET', `/rooms/${roomId}/play-token`)).body as Record<string, string>;
    const otherSeg = new URL(segment.split('?')[0], other.edge_hls_url);
    for (const k of ['md5', 'expires', 'token']) otherSeg.searchParams.set(k, new URL(other.edge_hls_url).searchParams.get(k)!);
    const second = await fetch(otherSeg);
    assert.deepEqual(Buffer.from(await second.arrayBuffer()), firstBytes);
    assert.equal(second.headers.get('x-cache-status'), 'HIT');
    const again = await fetch(playlistUrl);
    await again.arrayBuffer();
    assert.equal(again.headers.get('x-cache-status'), null);
  });

  it('HLS: 20 viewers asking for a new segment at once cost the origin one request', async (t) => {
    // 20 viewers, each with a token and edge URL of their own.
    const viewers: Array<Record<string, string>> = [];
    for (let i = 0; i < 20; i++) viewers.push((await stack.call('GET', `/rooms/${roomId}/play-token`)).body);
    const originHits = new Map<string, number>();
    const count = (req: { url?: string }) => {
      const path = (req.url ?? '').split('?')[0]!;
      if (path.endsWith('.ts')) originHits.set(path, (originHits.get(path) ?? 0) + 1);
    };
    stack.server.on('request', count);
    try {
      // A segment nobody fetched yet: the newest one of a fresh playlist, once it is newer than the last seen.
      const seen = new Set<string>();
      const firstList = await (await fetch(viewers[0]!.edge_hls_url!)).text();
      for (const l of firstList.split('\n')) if (l && !l.startsWith('#')) seen.add(l.split('?')[0]!);
      const segment = await until('a segment the edge has not cached', async () => {
        const text = await (await fetch(viewers[0]!.edge_hls_url!)).text();
        const names = text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split('?')[0]!);
        const fresh = names.filter((n) => !seen.has(n));
        return fresh.at(-1);
      }, 20_000);
      const urls = viewers.map((v) => {
        const u = new URL(segment, v.edge_hls_url);
        for (const k of ['md5', 'expires', 'token']) u.searchParams.set(k, new URL(v.edge_hls_url!).searchParams.get(k)!);
        return u;
      });
      const answers = await Promise.all(urls.map(async (u) => {
        const res = await fetch(u);
        return { status: res.status, cache: res.headers.get('x-cache-status'), size: (await res.arrayBuffer()).byteLength };
      }));
      assert.ok(answers.every((a) => a.status === 200), JSON.stringify(answers));
      assert.equal(new Set(answers.map((a) => a.size)).size, 1, 'every viewer got the same bytes');
      const path = new URL(urls[0]!).pathname;
      assert.equal(originHits.get(path), 1, `origin requests for ${path}: ${originHits.get(path)}`);
      t.diagnostic(`20 concurrent viewers, 1 origin request; edge cache statuses: ${JSON.stringify(answers.map((a) => a.cache))}`);
    } finally {
      stack.server.off('request', count);
    }
  });

  it('passes the API and keeps /metrics private; logs hold no token or signature', async () => {
    const res = await fetch(`${edge.origin}/api/v1/rooms/${roomId}`);
    assert.equal(res.status, 200);
    assert.equal((await res.json() as { id: string }).id, roomId);
    assert.equal((await fetch(`${edge.origin}/metrics`)).status, 404);
    assert.equal((await fetch(`${edge.origin}/healthz`)).status, 200);
    const log = edge.accessLog();
    assert.ok(log.length > 0);
    assert.ok(!log.includes(answer.token), 'access log holds a play token');
    assert.ok(!log.includes('md5='), 'access log holds a signature');
  });
});
