import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testAdapterSets } from '../../core/testing/test-ports.js';
import { ChatClient, makeChatKit, type ChatKit } from '../testing/chat-kit.js';

/**
 * The heartbeat as a viewer sees it: a client that answers the server's pings stays in the chat
 * past several heartbeat timeouts; one that stops answering (a frozen app, a dead network) is
 * closed and leaves the online count. ChatConn's pong, message and close listeners are shared
 * functions (control/chat/chat-conn.ts): this is what they must keep doing.
 */
for (const set of testAdapterSets()) {
  describe(`chat heartbeat on ${set.name}`, () => {
    let kit: ChatKit;
    before(async () => {
      kit = await makeChatKit(set, { chat: { rate: 'off', heartbeatTimeout: '2s', pingInterval: '500ms' } });
    });
    after(async () => {
      await kit?.close();
    });

    it('keeps a socket that answers pings and closes one that went silent, which leaves the online count', async () => {
      const [a] = kit.nodes;
      const { sessionId } = await kit.liveRoom();
      const alive = await kit.user();
      const silent = await kit.user();
      const c = await ChatClient.connect(`${a!.ws}/ws/live/${sessionId}?token=${alive.token}`);
      await c.next((m) => m.type === 'welcome', 'welcome');
      const s = await ChatClient.connect(`${a!.ws}/ws/live/${sessionId}?token=${silent.token}`);
      await s.next((m) => m.type === 'welcome', 'welcome');
      await c.next((m) => m.type === 'online' && m.count === 2, 'the online count at 2');
      const mark = c.messages.length;
      s.ws.pause(); // reads nothing from now on, so it answers no ping
      await new Promise((r) => setTimeout(r, 5000)); // 2.5 heartbeat timeouts
      s.ws.resume();
      await s.closedWithin(5000);
      assert.equal(c.ws.readyState, c.ws.OPEN, 'the socket that answered pings is still open');
      // The live one still sends and reads; the room counts one viewer (the silent one timed out).
      c.send({ v: 1, type: 'chat', text: 'still here' });
      await c.next((m) => m.type === 'chat' && m.text === 'still here', 'its own message back');
      const online = await c.next((m) => m.type === 'online' && m.count === 1, 'the online count back to 1', mark, 10_000);
      assert.equal(online.count, 1);
      c.close();
    });
  });
}
