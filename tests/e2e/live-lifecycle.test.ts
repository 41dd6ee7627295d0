/**
 * Issue 2's live lifecycle through the real stack: the API, the media engine, ffmpeg and ffprobe.
 * start -> push -> live; wrong/rotated/revoked keys refused before media; tokens on playback;
 * anchor close and force close drop the publisher; a short drop within the grace keeps the session.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { missingTool } from '../../core/testing/tools.js';
import { signPlayToken } from '../../core/tokens/play-token.js';
import type { MediaEvents } from '../../core/media/media-contract.js';
import { exitWithin, probe, publish, startStack, until, type Stack } from './onair-stack.js';

const skip = missingTool('ffmpeg') || missingTool('ffprobe');

describe('live lifecycle end to end', { skip }, () => {
  let stack: Stack;
  let anchor: { token: string; id: string };
  let operator: { token: string };
  const started: Array<MediaEvents['publish.started']> = [];
  const children: Array<{ kill(signal?: NodeJS.Signals): boolean }> = [];

  before(async () => {
    stack = await startStack({ ONAIR_RECONNECT_GRACE: '2s', ONAIR_ADMIN_USER: 'root', ONAIR_ADMIN_PASSWORD: 'operator-password' });
    stack.engine.on('publish.started', (e) => started.push(e));
    anchor = await stack.user('anchor');
    const login = await stack.call('POST', '/auth/login', { username: 'root', password: 'operator-password' });
    operator = { token: login.body.token };
  });
  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    await stack?.close();
  });

  async function newRoom(title: string) {
    const res = await stack.call('POST', '/rooms', { title }, anchor.token);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body as { id: string; stream_key: string; push_url: string };
  }
  const room = (id: string) => stack.call('GET', `/rooms/${id}`).then((r) => r.body);

  it('goes live within 1 s of the push, plays FLV with a token, and refuses missing, forged and expired tokens', async () => {
    const r = await newRoom('first show');
    const start = await stack.call('POST', '/live/start', { room_id: r.id }, anchor.token);
    assert.equal(start.status, 200, JSON.stringify(start.body));
    assert.match(start.body.push_url, /txSecret=[0-9a-f]{32}&txTime=[0-9A-F]+$/i);
    assert.equal((await room(r.id)).is_live, false);

    const ffmpeg = publish(stack.fixPort(start.body.push_url));
    children.push(ffmpeg);
    await until('publish.started', () => started.find((e) => e.streamName === r.id), 15_000);
    const liveAt = Date.now();
    await until('room live', async () => (await room(r.id)).is_live === true, 1000);
    assert.ok(Date.now() - liveAt <= 1000);
    assert.equal((await room(r.id)).session_id, start.body.session_id);

    const play = await stack.call('GET', `/rooms/${r.id}/play-token`);
    assert.equal(play.status, 200);
    assert.ok(!JSON.stringify(play.body).includes(r.stream_key), 'play URLs never carry the stream key');
    const streams = await probe(play.body.flv_url);
    assert.deepEqual(streams.map((s) => s.codec_name).sort(), ['aac', 'h264']);
    assert.equal(streams.find((s) => s.codec_name === 'h264')?.width, 640);

    const base = `http://127.0.0.1:${stack.httpPort}/live/${r.id}.flv`;
    const expired = signPlayToken(stack.config.secret!, { room: r.id, exp: Math.floor(Date.now() / 1000) - 5 });
    const otherRoom = signPlayToken(stack.config.secret!, { room: '999999', exp: Math.floor(Date.now() / 1000) + 60 });
    assert.equal((await fetch(base)).status, 401);
    assert.equal((await fetch(`${base}?token=forged`)).status, 403);
    assert.equal((await fetch(`${base}?token=${expired}`)).status, 403);
    assert.equal((await fetch(`${base}?token=${otherRoom}`)).status, 403);
    assert.equal((await fetch(`${base}?token=${encodeURIComponent(r.stream_key)}`)).status, 403, 'a stream key is not a play token');

    // Anchor close: the publisher is dropped within 1 s and the session ends with close_method 1.
    const closedAt = Date.now();
    const close = await stack.call('POST', '/live/close', { room_id: r.id }, anchor.token);
    assert.equal(close.status, 200, JSON.stringify(close.body));
    assert.notEqual(await exitWithin(ffmpeg, 1000), 'running', 'ffmpeg still publishing 1 s after close');
    assert.ok(Date.now() - closedAt < 1500);
    assert.equal(close.body.close_method, 1);
    assert.equal((await room(r.id)).is_live, false);
  });

  it('refuses a wrong key and a rotated key before any media', async () => {
    const r = await newRoom('keys');
    const before = started.length;
    const wrong = publish(stack.fixPort(r.push_url.replace(r.stream_key, 'sk_not-a-real-key')));
    children.push(wrong);
    assert.notEqual(await exitWithin(wrong, 5000), 'running', 'a wrong key must be refused');

    const rotated = await stack.call('POST', `/rooms/${r.id}/stream-key/rotate`, {}, anchor.token);
    assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
    assert.notEqual(rotated.body.stream_key, r.stream_key);
    const old = publish(stack.fixPort(r.push_url));
    children.push(old);
    assert.notEqual(await exitWithin(old, 5000), 'running', 'a rotated key must be refused');

    assert.equal(started.length, before, 'no publish started for refused keys');
    assert.deepEqual((await stack.engine.listStreams()).filter((s) => s.streamName === r.id), []);
    assert.equal((await room(r.id)).is_live, false);
  });

  it('force close drops the publisher within 1 s, keeps the reason, and refuses the reconnect', async () => {
    const r = await newRoom('to be closed');
    const ffmpeg = publish(stack.fixPort(r.push_url)); // OBS-style: the key alone, no /live/start
    children.push(ffmpeg);
    await until('room live', async () => (await room(r.id)).is_live === true, 15_000);

    const closedAt = Date.now();
    const res = await stack.call('POST', '/admin/live/close', { room_id: r.id, reason: 'terms of service' }, operator.token);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.session.close_method, 2);
    assert.equal(res.body.session.close_reason, 'terms of service');
    assert.equal(res.body.stream_key_revoked, true);
    assert.notEqual(await exitWithin(ffmpeg, 1000), 'running');
    assert.ok(Date.now() - closedAt < 1500);

    const again = publish(stack.fixPort(r.push_url)); // the encoder's automatic reconnect
    children.push(again);
    assert.notEqual(await exitWithin(again, 5000), 'running', 'the revoked key must be refused');
    assert.equal((await room(r.id)).is_live, false);

    const anchorOnly = await stack.call('POST', '/admin/live/close', { room_id: r.id, reason: 'x' }, anchor.token);
    assert.equal(anchorOnly.status, 403);
  });

  it('keeps the session when the publisher drops and returns within the grace period, ends it after', async () => {
    const r = await newRoom('flaky network');
    const first = publish(stack.fixPort(r.push_url));
    children.push(first);
    await until('room live', async () => (await room(r.id)).is_live === true, 15_000);
    const session = (await room(r.id)).session_id;
    assert.ok(session);

    first.kill('SIGKILL');
    await first.exited;
    await new Promise((res) => setTimeout(res, 300));
    const second = publish(stack.fixPort(r.push_url));
    children.push(second);
    await until('republished', () => started.filter((e) => e.streamName === r.id).length >= 2, 15_000);
    await new Promise((res) => setTimeout(res, 2500)); // past the 2 s grace of the first drop
    const during = await room(r.id);
    assert.equal(during.is_live, true);
    assert.equal(during.session_id, session, 'a reconnect within the grace keeps the session');

    second.kill('SIGKILL');
    await second.exited;
    const ended = await until('session ended after grace', async () => {
      const s = await stack.call('GET', `/live/sessions/${session}`, undefined, anchor.token);
      return s.status === 200 && s.body.status === 'ended' ? s.body : null;
    }, 6000);
    assert.equal(ended.close_method, 3);
    // Settlement runs after the close, asynchronously; the summary shows it once it has.
    const summary = await until('settled', async () => (await stack.call('GET', `/live/sessions/${session}`, undefined, anchor.token)).body.statistics, 5000);
    assert.ok(summary.duration_s >= 2);
    const stranger = await stack.user('anchor');
    assert.equal((await stack.call('GET', `/live/sessions/${session}`, undefined, stranger.token)).status, 403);
  });
});
