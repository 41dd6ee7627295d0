/**
 * Issue 4 through the all-in-one process: Tencent CSS-style callbacks posted to the running stack
 * are verified, queued and applied (cover from a screenshot, a severe audit ends the show and bans
 * the key so ffmpeg cannot publish again); forged and stale ones are refused with 401.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { missingTool } from '../../core/testing/tools.js';
import { cssSign } from '../../core/callbacks/css-signature.js';
import { exitWithin, publish, startStack, until, type Stack } from './onair-stack.js';

const KEY = 'css-callback-key-for-tests';
const skip = missingTool('ffmpeg');

describe('callbacks through the running stack', { skip }, () => {
  let stack: Stack;
  let anchor: { token: string; id: string };
  const children: Array<{ kill(signal?: NodeJS.Signals): boolean }> = [];

  before(async () => {
    stack = await startStack({ ONAIR_CALLBACK_KEY: KEY });
    anchor = await stack.user('anchor');
  });
  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    await stack?.close();
  });

  const signed = (body: Record<string, unknown>, t = Math.floor(Date.now() / 1000) + 60) => ({ ...body, t, sign: cssSign(KEY, t) });
  const post = (body: unknown) => fetch(`${stack.api}/callback`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  const room = async (id: string) => (await stack.call('GET', `/rooms/${id}`)).body;

  it('a screenshot callback becomes the room cover; forged and expired signatures get 401', async () => {
    const r = (await stack.call('POST', '/rooms', { title: 'cover me' }, anchor.token)).body;
    const shot = { event_type: 200, stream_id: r.id, pic_url: '/covers/room-shot-1.jpg', width: 640, height: 360, create_time: Math.floor(Date.now() / 1000) };
    const ok = await post(signed(shot));
    assert.equal(ok.status, 200);
    assert.equal(((await ok.json()) as { code: number }).code, 0);
    await until('cover updated', async () => (await room(r.id)).cover_url === '/covers/room-shot-1.jpg', 5000);

    const forged = await post({ ...signed({ ...shot, pic_url: '/covers/evil.jpg' }), sign: '0'.repeat(32) });
    assert.equal(forged.status, 401);
    const stale = await post(signed({ ...shot, pic_url: '/covers/stale.jpg' }, Math.floor(Date.now() / 1000) - 3600));
    assert.equal(stale.status, 401);
    const junk = await fetch(`${stack.api}/callback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"event_type": 200,' });
    assert.equal(junk.status, 400);
    await new Promise((res) => setTimeout(res, 300));
    assert.equal((await room(r.id)).cover_url, '/covers/room-shot-1.jpg');
  });

  it('a severe audit verdict drops the publisher, bans the anchor and the key cannot publish again', async () => {
    const bad = await stack.user('anchor');
    const r = (await stack.call('POST', '/rooms', { title: 'trouble' }, bad.token)).body;
    const ffmpeg = publish(stack.fixPort(r.push_url));
    children.push(ffmpeg);
    await until('room live', async () => (await room(r.id)).is_live === true, 15_000);

    const verdict = { event_type: 317, streamId: r.id, suggestion: 'Block', label: 'Porn', type: [1], score: [97], img: '/audit/frame.jpg' };
    assert.equal((await post(signed(verdict))).status, 200);
    assert.notEqual(await exitWithin(ffmpeg, 5000), 'running', 'the publisher must be dropped');
    await until('room ended', async () => (await room(r.id)).is_live === false, 5000);

    const again = publish(stack.fixPort(r.push_url));
    children.push(again);
    assert.notEqual(await exitWithin(again, 5000), 'running', 'the banned key must be refused');
    const start = await stack.call('POST', '/live/start', { room_id: r.id }, bad.token);
    assert.equal(start.status, 403, JSON.stringify(start.body));
  });
});
