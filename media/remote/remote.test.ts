import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { silentLogger } from '../../core/logging/logger.js';
import type { MediaControl, PlayRequest, StreamSummary } from '../../core/media/media-contract.js';
import { UnavailableError } from '../../core/errors.js';
import { HttpStreamHooks } from './http-stream-hooks.js';
import { TokenPlayHooks } from './token-play-hooks.js';
import { signPlayToken } from '../../core/tokens/play-token.js';
import { HttpEventSink, type MediaCallbackBody } from './http-event-sink.js';
import { HttpMediaControl } from '../../core/media/http-media-control.js';
import { handleControlApi } from './control-api.js';
import { mediaCallbackSignature, verifyMediaCallback } from '../../core/callbacks/media-callback-signature.js';
import { mediaCallbackSchema } from '../../core/media/media-callback.schema.js';

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

/** A real HTTP server standing in for control; each test sets `handler`. */
async function startFakeControl(): Promise<{ server: Server; url: string; setHandler(h: Handler): void }> {
  let handler: Handler = (_req, _body, res) => res.writeHead(500).end();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handler(req, Buffer.concat(chunks).toString(), res));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, setHandler: (h) => (handler = h) };
}

const KEY = 'media-callback-key-0123456789';
const publishReq = { app: 'live', streamKey: 'sk_secret', query: { txSecret: 'abc', txTime: '5F5E1000' }, clientIp: '10.0.0.1' };

describe('media remote adapters', () => {
  let control: Awaited<ReturnType<typeof startFakeControl>>;
  before(async () => {
    control = await startFakeControl();
  });
  after(() => new Promise((r) => control.server.close(r)));

  describe(HttpStreamHooks.name, () => {
    const hooks = () => new HttpStreamHooks({ controlUrl: control.url, timeoutMs: 300, key: KEY, log: silentLogger() });

    it('sends SRS-style on_publish JSON and reads the public stream name back', async () => {
      let seen: Record<string, unknown> = {};
      let path = '';
      control.setHandler((req, body, res) => {
        path = req.url!;
        seen = JSON.parse(body);
        assert.ok(verifyMediaCallback(KEY, req.headers['x-onair-timestamp'] as string, req.headers['x-onair-signature'] as string, Buffer.from(body)).ok);
        res.end(JSON.stringify({ code: 0, data: { stream_name: '1001', record: true, session_id: '42' } }));
      });
      assert.deepEqual(await hooks().authorizePublish(publishReq), { allow: true, streamName: '1001', record: true, sessionId: '42' });
      assert.equal(path, '/api/v1/hook/on_publish');
      assert.equal(seen.action, 'on_publish');
      assert.equal(seen.stream, 'sk_secret');
      assert.equal(seen.app, 'live');
      assert.equal(seen.ip, '10.0.0.1');
      assert.equal(seen.param, '?txSecret=abc&txTime=5F5E1000');
      assert.equal(typeof seen.client_id, 'string');
    });

    const refusals: [string, Handler][] = [
      ['a bare 0 (no public name)', (_q, _b, res) => res.end('0')],
      ['code 0 without stream_name', (_q, _b, res) => res.end('{"code":0}')],
      ['a non-zero code', (_q, _b, res) => res.end('{"code":1,"data":{"stream_name":"1001"}}')],
      ['HTTP 403', (_q, _b, res) => res.writeHead(403).end('{"code":0,"data":{"stream_name":"1001"}}')],
      ['an unsafe stream name', (_q, _b, res) => res.end('{"code":0,"data":{"stream_name":"../x"}}')],
      ['garbage', (_q, _b, res) => res.end('<html>')],
      ['no answer in time', () => {}],
    ];
    for (const [name, handler] of refusals) {
      it(`refuses a publish on ${name}`, async () => {
        control.setHandler(handler);
        const started = Date.now();
        const decision = await hooks().authorizePublish(publishReq);
        assert.equal(decision.allow, false);
        assert.ok(Date.now() - started < 1500);
      });
    }

    it('asks on_play with the token in param and accepts 0 or {"code":0}', async () => {
      let seen: Record<string, unknown> = {};
      control.setHandler((req, body, res) => {
        seen = JSON.parse(body);
        res.end(req.url === '/api/v1/hook/on_play' ? '0' : '1');
      });
      const req = { app: 'live', streamName: '1001', token: 'tok.en', query: { token: 'tok.en' }, clientIp: '10.0.0.2', protocol: 'hls' as const };
      assert.deepEqual(await hooks().authorizePlay(req), { allow: true });
      assert.equal(seen.action, 'on_play');
      assert.equal(seen.stream, '1001');
      assert.equal(seen.param, '?token=tok.en');
      assert.equal(seen.protocol, 'hls');
      control.setHandler((_q, _b, res) => res.end('{"code":0,"data":{"viewer_id":"v9"}}'));
      assert.deepEqual(await hooks().authorizePlay(req), { allow: true, viewerId: 'v9' });
      control.setHandler((_q, _b, res) => res.end('{"code":403}'));
      assert.equal((await hooks().authorizePlay(req)).allow, false);
    });
  });

  describe(TokenPlayHooks.name, () => {
    const PLAY_KEY = 'play-token-key-0123456789abcdef0123';
    const nowSec = Math.floor(Date.now() / 1000);
    const playReq = (token: string | undefined, over: Partial<PlayRequest> = {}): PlayRequest =>
      ({ app: 'live', streamName: '1001', token, query: token ? { token } : {}, clientIp: '10.0.0.3', protocol: 'http-flv', ...over });

    it('checks plays locally, without a call to control, and passes publishes on to control', async () => {
      let calls = 0;
      control.setHandler((req, _body, res) => {
        calls++;
        res.end(req.url === '/api/v1/hook/on_publish' ? '{"code":0,"data":{"stream_name":"1001"}}' : '1');
      });
      const hooks = new TokenPlayHooks({ publish: new HttpStreamHooks({ controlUrl: control.url, timeoutMs: 300, key: KEY, log: silentLogger() }), playTokenKey: PLAY_KEY, app: 'live' });
      const token = signPlayToken(PLAY_KEY, { room: '1001', viewer: 'v7', exp: nowSec + 60 });
      assert.deepEqual(await hooks.authorizePlay(playReq(token)), { allow: true, viewerId: 'v7' });
      assert.deepEqual(await hooks.authorizePlay(playReq(signPlayToken(PLAY_KEY, { room: '1001', exp: nowSec + 60 }))), { allow: true });
      assert.equal(calls, 0, 'no call to control per viewer');
      assert.equal((await hooks.authorizePublish(publishReq)).allow, true);
      assert.equal(calls, 1);
    });

    it('refuses what control would refuse, with the same reasons', async () => {
      const hooks = new TokenPlayHooks({ publish: new HttpStreamHooks({ controlUrl: control.url, timeoutMs: 300, log: silentLogger() }), playTokenKey: PLAY_KEY, app: 'live' });
      const cases: Array<[PlayRequest, string]> = [
        [playReq(undefined), 'missing_token'],
        [playReq(signPlayToken('another-key-0123456789abcdef01234', { room: '1001', exp: nowSec + 60 })), 'invalid_token'],
        [playReq(signPlayToken(PLAY_KEY, { room: '1001', exp: nowSec - 1 })), 'token_expired'],
        [playReq(signPlayToken(PLAY_KEY, { room: '2002', exp: nowSec + 60 })), 'wrong_stream'],
        [playReq(signPlayToken(PLAY_KEY, { room: '1001', exp: nowSec + 60 }), { app: 'other' }), 'unknown_app'],
        [playReq('not|a|token'), 'invalid_token'],
      ];
      for (const [req, reason] of cases) assert.deepEqual(await hooks.authorizePlay(req), { allow: false, reason }, reason);
    });
  });

  describe(HttpEventSink.name, () => {
    it('drops an event control rejects for good (400) without retrying', async () => {
      let calls = 0;
      control.setHandler((_q, _b, res) => {
        calls++;
        res.writeHead(400).end('{}');
      });
      const sink = new HttpEventSink({ controlUrl: control.url, key: KEY, log: silentLogger() });
      sink.send('publish.started', { streamName: '1', app: 'live', publisherId: 'p', clientIp: '', at: 1 });
      await sink.close(2000);
      assert.equal(calls, 1);
      assert.equal(sink.dropped, 1);
    });

    it('delivers signed events in order, retrying a failing control', async () => {
      const got: MediaCallbackBody[] = [];
      let failures = 2;
      control.setHandler((req, body, res) => {
        assert.equal(req.url, '/api/v1/callback/media');
        if (failures-- > 0) return void res.writeHead(503).end();
        const check = verifyMediaCallback(KEY, req.headers['x-onair-timestamp'] as string, req.headers['x-onair-signature'] as string, Buffer.from(body));
        assert.deepEqual(check, { ok: true });
        // The body is what control's receiver parses.
        assert.equal(mediaCallbackSchema.safeParse(JSON.parse(body)).success, true, body);
        got.push(JSON.parse(body));
        res.end('{}');
      });
      const sink = new HttpEventSink({ controlUrl: control.url, key: KEY, log: silentLogger() });
      const base = { streamName: '1001', app: 'live', publisherId: 'p1', clientIp: '1.2.3.4', at: 1 };
      sink.send('publish.started', base);
      sink.send('publish.ended', { ...base, reason: 'closed', bytesIn: 10, durationMs: 5 });
      const deadline = Date.now() + 5000;
      while (got.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(got.map((g) => g.event), ['publish.started', 'publish.ended']);
      assert.equal(got[0]!.payload.streamName, '1001');
      assert.notEqual(got[0]!.id, got[1]!.id);
      await sink.close();
      assert.equal(sink.delivered, 2);
    });

    it('keeps a bounded queue when control is down and gives up at close', async () => {
      control.setHandler((_q, _b, res) => res.writeHead(500).end());
      const sink = new HttpEventSink({ controlUrl: control.url, key: KEY, log: silentLogger(), maxQueue: 50 });
      for (let i = 0; i < 500; i++) {
        sink.send('stream.stats', {
          streamName: '1', publisherId: 'p', at: i, bitrateInKbps: 1, bitrateOutKbps: 1,
          viewers: { rtmp: 0, 'http-flv': 0, 'ws-flv': 0, hls: 0, webrtc: 0 }, videoFrames: 0, audioFrames: 0, bytesIn: 0, bytesOut: 0,
        });
      }
      assert.ok(sink.queued <= 50);
      await sink.close(300);
      assert.equal(sink.queued, 0);
      assert.equal(sink.delivered, 0);
    });
  });

  describe(HttpMediaControl.name, () => {
    let media: Server;
    let mediaUrl: string;
    const kicked: string[] = [];
    let key: string | undefined = KEY;
    const fake: MediaControl = {
      kickPublisher: async (s) => (kicked.push(`pub:${s}`), s === '1001'),
      kickViewer: async (v) => (kicked.push(`view:${v}`), true),
      listStreams: async () => [{ streamName: '1001', app: 'live', publisherId: 'p', clientIp: 'x', startedAt: 1,
        viewers: { rtmp: 0, 'http-flv': 2, 'ws-flv': 0, hls: 1, webrtc: 0 }, bytesIn: 1, bytesOut: 2, bitrateInKbps: 3 } satisfies StreamSummary],
    };
    before(async () => {
      media = createServer((req, res) => {
        if (!handleControlApi(req, res, new URL(req.url!, 'http://x'), { control: fake, key, log: silentLogger() })) res.writeHead(418).end();
      });
      await new Promise<void>((r) => media.listen(0, '127.0.0.1', r));
      mediaUrl = `http://127.0.0.1:${(media.address() as AddressInfo).port}`;
    });
    after(() => new Promise((r) => media.close(r)));

    it('kicks and lists through the signed API', async () => {
      const client = new HttpMediaControl({ baseUrl: mediaUrl, key: KEY });
      assert.equal(await client.kickPublisher('1001'), true);
      assert.equal(await client.kickPublisher('2002'), false);
      assert.equal(await client.kickViewer('v1'), true);
      assert.deepEqual(kicked, ['pub:1001', 'pub:2002', 'view:v1']);
      const streams = await client.listStreams();
      assert.equal(streams[0]!.streamName, '1001');
      assert.equal(streams[0]!.viewers.hls, 1);
    });

    it('refuses a wrong key, a forged body and a missing signature', async () => {
      await assert.rejects(new HttpMediaControl({ baseUrl: mediaUrl, key: 'another-key-0123456789' }).kickPublisher('1001'), UnavailableError);
      const unsigned = await fetch(`${mediaUrl}/api/streams`);
      assert.equal(unsigned.status, 401);
      // A signature for GET /api/streams does not authorize a kick.
      const ts = Date.now();
      const replay = await fetch(`${mediaUrl}/api/kick/publisher`, {
        method: 'POST', body: '{"stream":"1001"}',
        headers: { 'x-onair-timestamp': String(ts), 'x-onair-signature': mediaCallbackSignature(KEY, ts, 'GET /api/streams\n') },
      });
      assert.equal(replay.status, 401);
      const stale = Date.now() - 3600_000;
      assert.equal(verifyMediaCallback(KEY, String(stale), mediaCallbackSignature(KEY, stale, 'x'), Buffer.from('x')).ok, false);
      key = undefined;
      assert.equal((await fetch(`${mediaUrl}/api/streams`)).status, 503);
      key = KEY;
      assert.equal((await fetch(`${mediaUrl}/other`)).status, 418);
    });
  });
});
