/**
 * Chat and the viewer's journey in the all-in-one process: control's chat sockets and media's WS-FLV
 * share one HTTP port (the upgrade is routed by path), and an exit drops every media connection of
 * the viewer (media's kick-viewer names all of them) and their chat socket.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { missingTool } from '../../core/testing/tools.js';
import { startControlAlone } from '../../core/testing/role-process.js';
import type { MediaEvents } from '../../core/media/media-contract.js';
import { ChatClient } from '../../control/testing/chat-kit.js';
import { publish, stackAdapterSets, startStack, until, type Stack } from './onair-stack.js';

const skip = missingTool('ffmpeg');

for (const adapters of stackAdapterSets()) {
  describe(`chat in the all-in-one process on ${adapters.name}`, { skip }, () => {
    let stack: Stack;
    let cleanup: () => Promise<void> = async () => undefined;
    const children: Array<{ kill(signal?: NodeJS.Signals): boolean }> = [];
    const ended: Array<MediaEvents['play.ended']> = [];

    before(async () => {
      const env = await adapters.env();
      cleanup = env.cleanup;
      stack = await startStack(env.env);
      stack.engine.on('play.ended', (e) => ended.push(e));
    });
    after(async () => {
      for (const c of children) c.kill('SIGKILL');
      await stack?.close();
      await cleanup();
    });

    it('serves chat and WS-FLV on one port, and an exit drops all of the viewer\'s players and their chat', async () => {
      const anchor = await stack.user('anchor');
      const room = (await stack.call('POST', '/rooms', { title: 'chat e2e' }, anchor.token)).body as { id: string; push_url: string };
      const ffmpeg = publish(stack.fixPort(room.push_url));
      children.push(ffmpeg);
      await until('room live', async () => (await stack.call('GET', `/rooms/${room.id}`)).body.is_live === true, 20_000);

      const viewer = await stack.user('viewer');
      const enter = await stack.call('POST', `/rooms/${room.id}/enter`, undefined, viewer.token);
      assert.equal(enter.status, 200, JSON.stringify(enter.body));
      const chat = await ChatClient.connect(enter.body.chat_url);
      assert.equal((await chat.next((m) => m.type === 'welcome', 'welcome')).can_post, true);
      chat.send({ v: 1, type: 'chat', text: 'hello all-in-one', client_id: 'a' });
      await chat.next((m) => m.type === 'chat' && m.text === 'hello all-in-one', 'own message back');

      // Two players of the same viewer: WS-FLV through the same upgrade handler, and HTTP-FLV.
      const flvBytes: Buffer[] = [];
      const wsFlv = new WebSocket(enter.body.ws_url);
      wsFlv.on('message', (d: Buffer) => flvBytes.push(d));
      const wsFlvClosed = new Promise((resolve) => wsFlv.once('close', resolve));
      await until('WS-FLV bytes', () => Buffer.concat(flvBytes).subarray(0, 3).toString() === 'FLV', 15_000);
      const abort = new AbortController();
      const http = await fetch(enter.body.flv_url, { signal: abort.signal });
      assert.equal(http.status, 200);
      const reader = http.body!.getReader();
      await reader.read();
      await until('two players of the viewer', () => stack.engine.viewers.size >= 2, 10_000);

      const exit = await stack.call('POST', `/rooms/${room.id}/exit`, undefined, viewer.token);
      assert.equal(exit.status, 200, JSON.stringify(exit.body));
      await wsFlvClosed;
      await until('both players kicked', () => ended.filter((e) => e.reason === 'kicked' && e.viewerId.startsWith(viewer.id)).length >= 2, 10_000);
      assert.equal((await chat.closed).code, 1000);
      abort.abort();
      assert.equal((await stack.call('GET', `/rooms/${room.id}`)).body.online, 0);
    });
  });
}

/** control/main.ts, the control service compose runs alone: its server routes the chat upgrade too. */
describe('chat in control/main.ts (control alone)', () => {
  it('authenticates at the upgrade and serves the chat', async () => {
    const control = await startControlAlone({ ONAIR_RATE_LIMITS: 'false' }, { echoStderr: true });
    try {
      const { base, port } = control;
      const post = async (path: string, body: unknown, token?: string) => {
        const res = await fetch(`${base}/api/v1${path}`, {
          method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body),
        });
        return res.json() as Promise<any>;
      };
      await post('/auth/register', { username: 'chatanchor', password: 'correct-horse-battery', role: 'anchor' });
      const { token } = await post('/auth/login', { username: 'chatanchor', password: 'correct-horse-battery' });
      const room = await post('/rooms', { title: 'alone' }, token);
      const ws = `ws://127.0.0.1:${port}`;
      const refusal = await ChatClient.connect(`${ws}/ws?room_id=${room.id}`).then(() => undefined, (err: { status: number; body: any }) => err);
      assert.equal(refusal?.status, 401);
      assert.equal(refusal?.body.error.code, 'token_required');
      const c = await ChatClient.connect(`${ws}/ws?token=${token}&room_id=${room.id}`);
      const welcome = await c.next((m) => m.type === 'welcome', 'welcome');
      assert.equal(welcome.room_id, String(room.id));
      c.send({ v: 1, type: 'chat', text: 'alone but not lonely' });
      await c.next((m) => m.type === 'chat' && m.text === 'alone but not lonely', 'the message back');
      c.close();
    } finally {
      await control.close();
    }
  });
});
