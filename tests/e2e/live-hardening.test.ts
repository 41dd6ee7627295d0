/**
 * Issue 9 through the real stack with ffmpeg publishing, on both adapter sets:
 *   9  an anchor could undo an operator's force close by rotating the key (the new key went live)
 *  10  an anchor live in two rooms lost a show to the reaper (one status hash per anchor): both stay
 *  15  with ONAIR_PUSH_AUTH=signed the key alone (or an expired txSecret) no longer publishes
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { missingTool } from '../../core/testing/tools.js';
import { pushSigningKey, signTxSecret, txTimeHex } from '../../core/tokens/tx-secret.js';
import { exitWithin, publish, stackAdapterSets, startStack, until, type Stack } from './onair-stack.js';

const skip = missingTool('ffmpeg') || missingTool('ffprobe');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const adapters of stackAdapterSets()) {
  describe(`live hardening end to end on ${adapters.name}`, { skip }, () => {
    let stack: Stack;
    let cleanup: () => Promise<void>;
    let operator: { token: string };
    const children: Array<{ kill(signal?: NodeJS.Signals): boolean }> = [];

    before(async () => {
      const a = await adapters.env();
      cleanup = a.cleanup;
      // Stats every 500 ms, the reaper ends a session silent for 3 s (it sweeps every second).
      stack = await startStack({
        ...a.env, ONAIR_RECONNECT_GRACE: '2s', ONAIR_STATS_INTERVAL: '500ms', ONAIR_HEARTBEAT_TIMEOUT: '3s',
        ONAIR_ADMIN_USER: 'root', ONAIR_ADMIN_PASSWORD: 'operator-password',
      });
      operator = { token: (await stack.call('POST', '/auth/login', { username: 'root', password: 'operator-password' })).body.token };
    });
    after(async () => {
      for (const c of children) c.kill('SIGKILL');
      await stack?.close();
      await cleanup?.();
    });

    const room = (id: string) => stack.call('GET', `/rooms/${id}`).then((r) => r.body);
    const newRoom = async (token: string) => {
      const res = await stack.call('POST', '/rooms', { title: 'hardening' }, token);
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body as { id: string; stream_key: string; push_url: string };
    };
    const push = (url: string) => {
      const child = publish(stack.fixPort(url));
      children.push(child);
      return child;
    };

    it('an anchor live in two rooms keeps both shows: neither is reaped nor kicked', async () => {
      const anchor = await stack.user('anchor');
      const first = await newRoom(anchor.token);
      const second = await newRoom(anchor.token);
      const one = push(first.push_url);
      await until('first room live', async () => (await room(first.id)).is_live === true, 15_000);
      const two = push(second.push_url);
      await until('second room live', async () => (await room(second.id)).is_live === true, 15_000);
      const sessions = [(await room(first.id)).session_id, (await room(second.id)).session_id];

      await sleep(4500); // past the heartbeat timeout and several reaper sweeps
      for (const [i, r] of [first, second].entries()) {
        const now = await room(r.id);
        assert.equal(now.is_live, true, `show ${i + 1} is still live`);
        assert.equal(now.session_id, sessions[i]);
      }
      assert.equal(await exitWithin(one, 0), 'running', 'the first publisher was never kicked');
      assert.equal(await exitWithin(two, 0), 'running', 'the second publisher was never kicked');
      one.kill('SIGKILL');
      two.kill('SIGKILL');
    });

    it('after a force close the anchor cannot rotate the revoked key away; only an operator\'s restore lets them publish again', async () => {
      const anchor = await stack.user('anchor');
      const r = await newRoom(anchor.token);
      const show = push(r.push_url);
      await until('room live', async () => (await room(r.id)).is_live === true, 15_000);
      const closed = await stack.call('POST', '/admin/live/close', { room_id: r.id, reason: 'terms of service' }, operator.token);
      assert.equal(closed.status, 200, JSON.stringify(closed.body));
      assert.notEqual(await exitWithin(show, 2000), 'running');

      const rotate = await stack.call('POST', `/rooms/${r.id}/stream-key/rotate`, {}, anchor.token);
      assert.equal(rotate.status, 409, JSON.stringify(rotate.body));
      assert.equal(rotate.body.error.code, 'stream_key_revoked');
      const key = (await stack.call('GET', `/rooms/${r.id}/stream-key`, undefined, anchor.token)).body;
      assert.equal(key.revoked, true);
      const retry = push(key.push_url);
      assert.notEqual(await exitWithin(retry, 8000), 'running', 'the revoked key stays refused');
      assert.match(retry.errors(), /key_revoked/);
      assert.equal((await room(r.id)).is_live, false);

      assert.equal((await stack.call('POST', `/admin/rooms/${r.id}/restore`, {}, operator.token)).status, 200);
      const restored = (await stack.call('GET', `/rooms/${r.id}/stream-key`, undefined, anchor.token)).body;
      assert.equal(restored.revoked, false);
      assert.notEqual(restored.stream_key, key.stream_key);
      const back = push(restored.push_url);
      await until('live again after the restore', async () => (await room(r.id)).is_live === true, 15_000);
      back.kill('SIGKILL');
    });
  });

  describe(`ONAIR_PUSH_AUTH=signed end to end on ${adapters.name}`, { skip }, () => {
    let stack: Stack;
    let cleanup: () => Promise<void>;
    const children: Array<{ kill(signal?: NodeJS.Signals): boolean }> = [];
    before(async () => {
      const a = await adapters.env();
      cleanup = a.cleanup;
      stack = await startStack({ ...a.env, ONAIR_PUSH_AUTH: 'signed' });
    });
    after(async () => {
      for (const c of children) c.kill('SIGKILL');
      await stack?.close();
      await cleanup?.();
    });

    it('refuses the key alone and an expired txSecret; the signed URL from /live/start publishes', async () => {
      const anchor = await stack.user('anchor');
      const r = (await stack.call('POST', '/rooms', { title: 'signed only' }, anchor.token)).body;
      const keyOnly = publish(stack.fixPort(r.push_url));
      children.push(keyOnly);
      assert.notEqual(await exitWithin(keyOnly, 8000), 'running', 'the key alone must be refused');
      assert.match(keyOnly.errors(), /push_signature_required/);

      const txTime = txTimeHex(Math.floor(Date.now() / 1000) - 60);
      const txSecret = signTxSecret(pushSigningKey(stack.config.secret!), r.stream_key, txTime);
      const expired = publish(stack.fixPort(`${r.push_url}?txSecret=${txSecret}&txTime=${txTime}`));
      children.push(expired);
      assert.notEqual(await exitWithin(expired, 8000), 'running', 'an expired push URL must be refused');
      assert.match(expired.errors(), /push_url_expired/);
      assert.equal((await stack.call('GET', `/rooms/${r.id}`)).body.is_live, false);

      const start = await stack.call('POST', '/live/start', { room_id: r.id }, anchor.token);
      assert.equal(start.status, 200);
      const signed = publish(stack.fixPort(start.body.push_url));
      children.push(signed);
      await until('live with the signed URL', async () => (await stack.call('GET', `/rooms/${r.id}`)).body.is_live === true, 15_000);
      signed.kill('SIGKILL');
    });
  });
}
