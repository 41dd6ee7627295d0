import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testAdapterSets } from '../../core/testing/test-ports.js';
import { roomChannel } from '../../core/pubsub/wire.js';
import { waitFor } from '../../core/testing/wait-for.js';
import { ChatClient, makeChatKit, refusedUpgrade as refused, type ChatKit } from '../testing/chat-kit.js';
import { frameWrites } from './shared-frame.js';

for (const set of testAdapterSets()) {
  describe(`live chat over WebSocket on ${set.name}`, () => {
    let kit: ChatKit;
    before(async () => {
      kit = await makeChatKit(set, { chat: { rate: 'off' } }, 2); // a second control node on the same database, cache and broker
    });
    after(async () => {
      await kit?.close();
    });

    it('refuses an upgrade with the right HTTP status before the handshake', async () => {
      const [a] = kit.nodes;
      const { sessionId } = await kit.liveRoom();
      let e = await refused(`${a!.ws}/ws/live/${sessionId}`);
      assert.equal(e.status, 401);
      assert.equal(e.body.error.code, 'token_required');
      e = await refused(`${a!.ws}/ws/live/${sessionId}?token=a.b.c`);
      assert.equal(e.status, 401);
      assert.equal(e.body.error.code, 'invalid_token');
      const viewer = await kit.user();
      e = await refused(`${a!.ws}/ws/live/999999999?token=${viewer.token}`);
      assert.equal(e.status, 404);
      assert.equal(e.body.error.code, 'session_not_found');
      e = await refused(`${a!.ws}/ws?token=${viewer.token}`);
      assert.equal(e.status, 400);
      assert.equal(e.body.error.code, 'room_required');
      e = await refused(`${a!.ws}/ws?token=${viewer.token}&room_id=999999999`);
      assert.equal(e.status, 404);
      assert.equal(e.body.error.code, 'room_not_found');
    });

    it('a JWT issued before its user\'s password changed opens neither a chat nor a notification socket', async () => {
      // The API refused such a token (a password stamp in it), but the sockets checked only its
      // signature: a stolen token kept chatting and reading notifications for ONAIR_JWT_TTL.
      const [a] = kit.nodes;
      const { roomId } = await kit.liveRoom();
      const name = `wsrev${process.pid}${Date.now().toString(36)}`;
      const login = async (password: string) => (await a!.http.post('/api/v1/auth/login').send({ username: name, password }).expect(200)).body.token as string;
      await a!.control.auth.ensureOperator(name, 'first operator pass');
      const old = await login('first operator pass');
      const before = await ChatClient.connect(`${a!.ws}/ws?room_id=${roomId}&token=${old}`);
      await before.next((m) => m.type === 'welcome', 'welcome with the token before the change');
      before.close();
      await a!.control.auth.ensureOperator(name, 'second operator pass');
      let e = await refused(`${a!.ws}/ws?room_id=${roomId}&token=${old}`);
      assert.equal(e.status, 401);
      assert.equal(e.body.error.code, 'invalid_token');
      e = await refused(`${a!.ws}/ws/notification`, { Authorization: `Bearer ${old}` });
      assert.equal(e.status, 401);
      assert.equal(e.body.error.code, 'invalid_token');
      const fresh = await login('second operator pass');
      const after = await ChatClient.connect(`${a!.ws}/ws?room_id=${roomId}&token=${fresh}`);
      await after.next((m) => m.type === 'welcome', 'welcome with the new token');
      after.close();
      (await ChatClient.connect(`${a!.ws}/ws/notification`, { Authorization: `Bearer ${fresh}` })).close();
    });

    it('the supervision wall counts the room\'s accepted messages of the last minute, over both nodes', async () => {
      const [a, b] = kit.nodes;
      const { roomId, sessionId } = await kit.liveRoom();
      const op = await kit.operator();
      const rate = async (node: typeof a) => {
        const wall = await node!.http.get('/api/v1/admin/wall').set(op.auth).expect(200);
        return wall.body.rooms.find((r: { room_id: string }) => r.room_id === roomId)?.chat_per_min;
      };
      assert.equal(await rate(a), 0);
      const [alice, bob] = [await kit.user(), await kit.user()];
      const ca = await ChatClient.connect(`${a!.ws}/ws/live/${sessionId}?token=${alice.token}`);
      const cb = await ChatClient.connect(`${b!.ws}/ws/live/${sessionId}?token=${bob.token}`);
      await ca.next((m) => m.type === 'welcome', 'welcome');
      await cb.next((m) => m.type === 'welcome', 'welcome');
      for (let i = 0; i < 3; i++) ca.send({ v: 1, type: 'chat', text: `a${i}`, client_id: `a${i}` });
      for (let i = 0; i < 2; i++) cb.send({ v: 1, type: 'danmaku', text: `b${i}`, client_id: `b${i}` });
      cb.send({ v: 1, type: 'chat', text: '   ', client_id: 'empty' }); // refused: not counted
      await waitFor('3 acks on A', () => ca.ofType('ack').length === 3 || undefined, 15_000);
      await waitFor('2 acks and a refusal on B', () => (cb.ofType('ack').length === 2 && cb.ofType('error').length === 1) || undefined, 15_000);
      assert.equal(await rate(a), 5);
      assert.equal(await rate(b), 5, 'the other node reads the same count (shared cache)');
      ca.close();
      cb.close();
    });

    it('delivers a message posted on node A to a socket on node B, with its history id', async () => {
      const [a, b] = kit.nodes;
      const { roomId, sessionId } = await kit.liveRoom();
      const alice = await kit.user();
      const bob = await kit.user();
      const ca = await ChatClient.connect(`${a!.ws}/ws/live/${sessionId}?token=${alice.token}`);
      const cb = await ChatClient.connect(`${b!.ws}/ws?token=${bob.token}&room_id=${roomId}`);
      const welcome = await cb.next((m) => m.type === 'welcome', 'welcome');
      assert.equal(welcome.can_post, true);
      assert.deepEqual(welcome.user, { id: bob.id, name: bob.username });
      await ca.next((m) => m.type === 'welcome', 'welcome');
      ca.send({ v: 1, type: 'danmaku', text: 'hello from A', ts: 1234, color: '#ff0000', position: 'top', client_id: 'c1' });
      const ack = await ca.next((m) => m.type === 'ack', 'ack');
      assert.equal(ack.client_id, 'c1');
      const got = await cb.next((m) => m.type === 'danmaku', 'the danmaku on node B');
      assert.equal(got.id, ack.id);
      assert.equal(got.text, 'hello from A');
      assert.deepEqual(got.user, { id: alice.id, name: alice.username });
      assert.equal(got.ts, 1234);
      assert.equal(got.color, '#ff0000');
      assert.equal(got.position, 'top');
      // Both nodes serve the room: one Redis subscription each (or one hub subscription each).
      assert.equal(await kit.cluster.numSub(roomChannel(roomId)), 2);
      // Likes from sockets are summed into the show's counter, whose totals every node's sockets get.
      ca.send({ v: 1, type: 'like', count: 3 });
      ca.send({ v: 1, type: 'like', count: 2 });
      assert.equal((await cb.next((m) => m.type === 'likes' && m.likes === 5, 'the likes total on node B')).session_id, sessionId);
      ca.send({ v: 1, type: 'ping', t: 7 });
      assert.equal((await ca.next((m) => m.type === 'pong', 'pong')).t, 7);
      ca.close();
      cb.close();
    });

    it('forwards any {v:1,type} published on the room channel as is (the contract other roles publish by)', async () => {
      const [a, b] = kit.nodes;
      const { roomId, sessionId } = await kit.liveRoom();
      const viewer = await kit.user();
      const c = await ChatClient.connect(`${b!.ws}/ws/live/${sessionId}?token=${viewer.token}`);
      await c.next((m) => m.type === 'welcome', 'welcome');
      const id = await a!.pubsub.publishKept(roomChannel(roomId), { v: 1, type: 'gift', gift_id: 7, from: { id: '1', name: 'x' }, count: 3 });
      await a!.pubsub.publish(roomChannel(roomId), { not: 'an envelope' });
      await a!.pubsub.publish(roomChannel(roomId), { v: 1, type: 'notice', code: 'test', text: 'plain publish' });
      const gift = await c.next((m) => m.type === 'gift', 'the gift');
      assert.deepEqual(gift, { v: 1, type: 'gift', gift_id: 7, from: { id: '1', name: 'x' }, count: 3, id });
      const notice = await c.next((m) => m.type === 'notice' && m.code === 'test', 'the notice');
      assert.equal(notice.id, undefined);
      assert.ok(!c.messages.some((m) => m.not), 'a message without the envelope is not forwarded');
      c.close();
    });

    it('lets an anonymous ticket read but not post', async () => {
      const [a] = kit.nodes;
      const { roomId, sessionId } = await kit.liveRoom();
      const ticket = (await a!.http.post(`/api/v1/rooms/${roomId}/enter`).expect(200)).body;
      assert.equal(ticket.can_post, false);
      const anon = await ChatClient.connect(`${a!.ws}/ws?token=${ticket.token}`);
      const welcome = await anon.next((m) => m.type === 'welcome', 'welcome');
      assert.equal(welcome.can_post, false);
      assert.equal(welcome.user, null);
      anon.send({ v: 1, type: 'chat', text: 'hi', client_id: 'x' });
      const err = await anon.next((m) => m.type === 'error', 'error');
      assert.equal(err.code, 'login_required');
      assert.equal(err.client_id, 'x');
      const viewer = await kit.user();
      const c = await ChatClient.connect(`${a!.ws}/ws/live/${sessionId}?token=${viewer.token}`);
      c.send({ v: 1, type: 'chat', text: 'readable by all' });
      await anon.next((m) => m.type === 'chat' && m.text === 'readable by all', 'the chat on the anonymous socket');
      anon.close();
      c.close();
    });

    it('caps the anonymous sockets of one address in a room: one ticket in a loop does not fill the online count', async () => {
      const [a] = kit.nodes;
      const { roomId } = await kit.liveRoom();
      const ticket = (await a!.http.post(`/api/v1/rooms/${roomId}/enter`).expect(200)).body;
      const cap = 16; // ONAIR_CHAT_ANONYMOUS_PER_ADDRESS's default
      const socks = [];
      for (let i = 0; i < cap; i++) {
        const s = await ChatClient.connect(`${a!.ws}/ws?token=${ticket.token}`);
        await s.next((m) => m.type === 'welcome', 'welcome');
        socks.push(s);
      }
      const over = await refused(`${a!.ws}/ws?token=${ticket.token}`);
      assert.equal(over.status, 429);
      assert.equal(over.body.error.code, 'too_many_connections');
      assert.equal((await a!.http.get(`/api/v1/rooms/${roomId}`).expect(200)).body.online, cap);
      // A logged-in viewer from the same address is not anonymous: not capped.
      const viewer = await kit.user();
      const c = await ChatClient.connect(`${a!.ws}/ws?token=${viewer.token}&room_id=${roomId}`);
      await c.next((m) => m.type === 'welcome', 'welcome of a user');
      // A closed anonymous socket frees its place.
      socks.pop()!.close();
      await waitFor('the place freed', async () => {
        try {
          const s = await ChatClient.connect(`${a!.ws}/ws?token=${ticket.token}`);
          socks.push(s);
          return true;
        } catch {
          return false;
        }
      });
      for (const s of socks) s.close();
      c.close();
    });

    it('socket likes share the per-user budget of POST /like (ONAIR_RATE_LIKES)', async () => {
      const own = await makeChatKit(set, { rateLimit: { likes: '150/1m' } });
      try {
        const [a] = own.nodes;
        const { roomId } = await own.liveRoom();
        const viewer = await own.user();
        await a!.http.post(`/api/v1/rooms/${roomId}/like`).set(viewer.auth).send({ count: 100 }).expect(200);
        const c = await ChatClient.connect(`${a!.ws}/ws?token=${viewer.token}&room_id=${roomId}`);
        await c.next((m) => m.type === 'welcome', 'welcome');
        c.send({ v: 1, type: 'like', count: 50 });
        c.send({ v: 1, type: 'like', count: 1 });
        const err = await c.next((m) => m.type === 'error', 'the like past the budget refused');
        assert.equal(err.code, 'too_many_likes');
        assert.ok((err.retry_after_ms as number) > 0);
        c.close();
      } finally {
        await own.close();
      }
    });

    it('limits the chat sockets one viewer opens in a room, over the nodes sharing Redis (ONAIR_RATE_CHAT_CONNECTS): a reconnect loop no longer replays the history on each connect', async () => {
      const own = await makeChatKit(set, { rateLimit: { chatConnects: '4/1m' } }, 2);
      try {
        const [a, b] = own.nodes;
        const { roomId, sessionId } = await own.liveRoom();
        const viewer = await own.user();
        const open = async (node: typeof a, token: string, path = `/ws/live/${sessionId}`) => {
          const c = await ChatClient.connect(`${node!.ws}${path}?token=${token}&after=0-0`);
          await c.next((m) => m.type === 'resumed', 'the catch-up');
          c.close();
        };
        // The embedded adapters count in each process; two nodes share the count through Redis.
        const shared = set.name !== 'embedded';
        for (const node of shared ? [a, b, a, b] : [a, a, a, a]) await open(node, viewer.token);
        let e = await refused(`${a!.ws}/ws/live/${sessionId}?token=${viewer.token}&after=0-0`);
        assert.equal(e.status, 429);
        assert.equal(e.body.error.code, 'too_many_connects');
        if (shared) {
          e = await refused(`${b!.ws}/ws/live/${sessionId}?token=${viewer.token}&after=0-0`);
          assert.equal(e.status, 429, 'the count is shared by the nodes');
        }
        // Another viewer, and the same viewer in another room, are not affected.
        await open(b, (await own.user()).token);
        const other = await own.liveRoom();
        await open(a, viewer.token, `/ws/live/${other.sessionId}`);
        // Anonymous tickets count by client address.
        const ticket = (await a!.http.post(`/api/v1/rooms/${roomId}/enter`).expect(200)).body;
        for (let i = 0; i < 4; i++) await open(a, ticket.token, '/ws');
        e = await refused(`${a!.ws}/ws?token=${ticket.token}`);
        assert.equal(e.status, 429);
        assert.equal(e.body.error.code, 'too_many_connects');
      } finally {
        await own.close();
      }
    });

    it('a user the anchor kicked or blacklisted neither likes nor shares the room (both count on the show and in the hot ranking)', async () => {
      const [a] = kit.nodes;
      const { roomId, anchor } = await kit.liveRoom();
      const [troll, kicked, fan] = [await kit.user(), await kit.user(), await kit.user()];
      await a!.http.post(`/api/v1/rooms/${roomId}/blacklist`).set(anchor.auth).send({ user_id: troll.id }).expect(200);
      await a!.http.post(`/api/v1/rooms/${roomId}/kick`).set(anchor.auth).send({ user_id: kicked.id }).expect(200);
      for (const [u, code] of [[troll, 'blacklisted'], [kicked, 'kicked']] as const) {
        assert.equal((await a!.http.post(`/api/v1/rooms/${roomId}/like`).set(u.auth).send({ count: 100 }).expect(403)).body.error.code, code);
        assert.equal((await a!.http.post(`/api/v1/rooms/${roomId}/share`).set(u.auth).expect(403)).body.error.code, code);
      }
      const liked = (await a!.http.post(`/api/v1/rooms/${roomId}/like`).set(fan.auth).send({ count: 3 }).expect(200)).body;
      assert.equal(liked.likes, 3, 'only the fan\'s likes counted');
      assert.equal((await a!.http.post(`/api/v1/rooms/${roomId}/share`).set(fan.auth).expect(200)).body.shares, 1);
    });

    it('lets the anchor turn anonymous readers off for their room', async () => {
      const [a] = kit.nodes;
      const { roomId, anchor } = await kit.liveRoom();
      const ticket = (await a!.http.post(`/api/v1/rooms/${roomId}/enter`).expect(200)).body;
      const viewer = await kit.user();
      await a!.http.put(`/api/v1/rooms/${roomId}/chat-settings`).set(viewer.auth).send({ anonymous: false }).expect(403);
      await a!.http.put(`/api/v1/rooms/${roomId}/chat-settings`).set(anchor.auth).send({ anonymous: false }).expect(200);
      assert.equal((await a!.http.post(`/api/v1/rooms/${roomId}/enter`).expect(401)).body.error.code, 'login_required');
      const e = await refused(`${a!.ws}/ws?token=${ticket.token}`);
      assert.equal(e.status, 401);
      assert.equal(e.body.error.code, 'login_required');
      await a!.http.put(`/api/v1/rooms/${roomId}/chat-settings`).set(anchor.auth).send({ anonymous: null }).expect(200);
      await a!.http.post(`/api/v1/rooms/${roomId}/enter`).expect(200);
    });

    it('resumes after its node is killed: the other node sends what the client missed', async () => {
      const b2 = await kit.node();
      const [a] = kit.nodes;
      const { sessionId } = await kit.liveRoom();
      const poster = await kit.user();
      const reader = await kit.user();
      const p = await ChatClient.connect(`${a!.ws}/ws/live/${sessionId}?token=${poster.token}`);
      const r = await ChatClient.connect(`${b2.ws}/ws/live/${sessionId}?token=${reader.token}`);
      await r.next((m) => m.type === 'welcome', 'welcome');
      await p.next((m) => m.type === 'welcome', 'welcome');
      p.send({ v: 1, type: 'chat', text: 'one' });
      const one = await r.next((m) => m.text === 'one', 'one');
      await b2.kill();
      const closed = await r.closed;
      assert.notEqual(closed.code, 1000);
      for (const text of ['two', 'three', 'four']) {
        p.send({ v: 1, type: 'chat', text });
        await p.next((m) => m.type === 'chat' && m.text === text, text);
      }
      const again = await ChatClient.connect(`${a!.ws}/ws/live/${sessionId}?token=${reader.token}&after=${one.id}`);
      const resumed = await again.next((m) => m.type === 'resumed', 'resumed');
      assert.equal(resumed.count, 3);
      assert.equal(resumed.gap, false);
      await waitFor('the missed messages', () => again.ofType('chat').length >= 3);
      assert.deepEqual(again.ofType('chat').map((m) => m.text), ['two', 'three', 'four']);
      p.send({ v: 1, type: 'chat', text: 'five' });
      await again.next((m) => m.text === 'five', 'five after the resume');
      assert.deepEqual(again.ofType('chat').map((m) => m.text), ['two', 'three', 'four', 'five']);
      // The same over the socket (a client that lost its query string): `resume` replays from an id.
      const mark = again.messages.length;
      again.send({ v: 1, type: 'resume', after: one.id });
      assert.equal((await again.next((m) => m.type === 'resumed', 'resumed again', mark)).count, 4);
      await waitFor('the replay', () => again.messages.slice(mark).filter((m) => m.type === 'chat').length === 4);
      assert.deepEqual(again.messages.slice(mark).filter((m) => m.type === 'chat').map((m) => m.text), ['two', 'three', 'four', 'five']);
      // A resume replays up to the whole kept history (ONAIR_CHAT_HISTORY) for one small frame: another one
      // right after is refused, or a client sending 50 a second made the node encode 50 histories a second.
      const flood = again.messages.length;
      for (let i = 0; i < 5; i++) again.send({ v: 1, type: 'resume', after: '0-0' });
      const refused = await again.next((m) => m.type === 'error', 'a resume too soon refused', flood);
      assert.equal(refused.code, 'rate_limited');
      assert.ok((refused.retry_after_ms as number) > 0);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(again.messages.slice(flood).filter((m) => m.type === 'resumed').length, 0, 'no history replayed again');
      p.close();
      again.close();
    });

    it('tells every socket the show ended and closes them with 4004', async () => {
      const [a, b] = kit.nodes;
      const { roomId, sessionId, anchor } = await kit.liveRoom();
      const viewer = await kit.user();
      const c = await ChatClient.connect(`${b!.ws}/ws/live/${sessionId}?token=${viewer.token}`);
      await c.next((m) => m.type === 'welcome', 'welcome');
      await a!.http.post('/api/v1/live/close').set(anchor.auth).send({ room_id: roomId }).expect(200);
      const notice = await c.next((m) => m.type === 'notice' && m.code === 'live_ended', 'live_ended');
      assert.equal(notice.session_id, sessionId);
      assert.equal(notice.close_method, 1);
      assert.equal((await c.closed).code, 4004);
      const e = await refused(`${a!.ws}/ws/live/${sessionId}?token=${viewer.token}`);
      assert.equal(e.status, 409);
      assert.equal(e.body.error.code, 'session_ended');
    });

    it('a new show\'s chat opens with what was said in this show, not the last show\'s lines and its end notice; a resume still gets what it missed', async () => {
      const [a] = kit.nodes;
      const anchor = await kit.user('anchor');
      const control = a!.control;
      const room = (await a!.http.post('/api/v1/rooms').set(anchor.auth).send({ title: 'Two shows' }).expect(201)).body;
      const roomId = String(room.id);
      const goLive = async () => {
        const d = await control.hooks.authorizePublish({ app: 'live', streamKey: room.stream_key as string, query: {}, clientIp: '127.0.0.1' });
        assert.ok(d.allow);
        await control.liveSessions.markLive({ streamName: roomId, app: 'live', publisherId: 'p', sessionId: d.sessionId, clientIp: '127.0.0.1', at: Date.now() });
        await control.rooms.invalidate(roomId);
        return d.sessionId!;
      };
      const viewer = await kit.user();
      const first = await goLive();
      const c1 = await ChatClient.connect(`${a!.ws}/ws/live/${first}?token=${viewer.token}`);
      await c1.next((m) => m.type === 'welcome', 'welcome');
      c1.send({ v: 1, type: 'chat', text: 'said in the first show', client_id: 'one' });
      const said = await c1.next((m) => m.type === 'chat' && m.text === 'said in the first show', 'the first show\'s line');
      await a!.http.post('/api/v1/live/close').set(anchor.auth).send({ room_id: roomId }).expect(200);
      await c1.next((m) => m.type === 'notice' && m.code === 'live_ended', 'live_ended');
      await new Promise((r) => setTimeout(r, 5));
      // After /live/close the room refuses publishes (the close hold) until the anchor starts again.
      await a!.http.post('/api/v1/live/start').set(anchor.auth).send({ room_id: roomId }).expect(200);
      const second = await goLive();
      const c2 = await ChatClient.connect(`${a!.ws}/ws/live/${second}?token=${viewer.token}`);
      await c2.next((m) => m.type === 'welcome', 'welcome to the second show');
      c2.send({ v: 1, type: 'chat', text: 'said in the second show', client_id: 'two' });
      await c2.next((m) => m.type === 'chat' && m.text === 'said in the second show', 'the second show\'s line');
      c2.close();
      const fresh = await ChatClient.connect(`${a!.ws}/ws/live/${second}?token=${(await kit.user()).token}`);
      await fresh.next((m) => m.type === 'chat' && m.text === 'said in the second show', 'this show\'s line in the greeting');
      assert.ok(!fresh.messages.some((m) => m.text === 'said in the first show'), 'no line of the last show');
      assert.ok(!fresh.messages.some((m) => m.type === 'notice' && m.code === 'live_ended'), 'no end notice of the last show');
      fresh.close();
      // A client resuming from the first show's line gets everything since, the end notice included.
      const resumed = await ChatClient.connect(`${a!.ws}/ws/live/${second}?token=${viewer.token}&after=${said.id as string}`);
      await resumed.next((m) => m.type === 'chat' && m.text === 'said in the second show', 'the resume');
      assert.ok(resumed.messages.some((m) => m.type === 'notice' && m.code === 'live_ended'), 'the resume is not cut');
      resumed.close();
    });

    it('keeps one socket per viewer per room: a newer socket of the same user replaces the older one on any node (4005)', async () => {
      const [a, b] = kit.nodes;
      const { roomId, sessionId } = await kit.liveRoom();
      const viewer = await kit.user();
      const other = await kit.user();
      const watcher = await ChatClient.connect(`${a!.ws}/ws/live/${sessionId}?token=${other.token}`);
      await watcher.next((m) => m.type === 'welcome', 'welcome');
      const first = await ChatClient.connect(`${a!.ws}/ws/live/${sessionId}?token=${viewer.token}`);
      await first.next((m) => m.type === 'welcome', 'welcome');
      const second = await ChatClient.connect(`${b!.ws}/ws?token=${viewer.token}&room_id=${roomId}`);
      await second.next((m) => m.type === 'welcome', 'welcome on B');
      assert.equal((await first.closedWithin()).code, 4005, 'the older socket, on the other node, is replaced');
      // And back: a third socket on node A replaces the one on node B.
      const third = await ChatClient.connect(`${a!.ws}/ws/live/${sessionId}?token=${viewer.token}`);
      await third.next((m) => m.type === 'welcome', 'welcome again on A');
      assert.equal((await second.closedWithin()).code, 4005);
      third.send({ v: 1, type: 'chat', text: 'still here', client_id: 's' });
      await third.next((m) => m.type === 'ack' && m.client_id === 's', 'the newest socket posts');
      await watcher.next((m) => m.type === 'chat' && m.text === 'still here', 'the post');
      // The user is one viewer throughout, and the node-to-node `replaced` message is not sent to clients.
      assert.equal((await a!.http.get(`/api/v1/rooms/${roomId}`).expect(200)).body.online, 2);
      assert.ok(!watcher.messages.some((m) => m.type === 'replaced'));
      assert.equal(a!.control.chat.chat.fanout.socketsOf(roomId).size, 2);
      assert.equal(b!.control.chat.chat.fanout.socketsOf(roomId).size, 0);
      watcher.close();
      third.close();
    });

    it('shows the platform conventions and the room rules on entering, in one notice', async () => {
      const fresh = await kit.node(); // no conventions cached yet on this node
      const { roomId, sessionId, anchor } = await kit.liveRoom();
      const op = await kit.operator();
      await fresh.http.put('/api/v1/admin/conventions').set(op.auth).send({ body: 'Platform rules: be kind.' }).expect(200);
      const viewer = await kit.user();
      await fresh.http.put(`/api/v1/rooms/${roomId}/chat-settings`).set(viewer.auth).send({ rules: 'mine' }).expect(403);
      const set = await fresh.http.put(`/api/v1/rooms/${roomId}/chat-settings`).set(anchor.auth).send({ rules: 'No spoilers.' }).expect(200);
      assert.deepEqual(set.body, { anonymous: null, rules: 'No spoilers.' });
      assert.deepEqual((await fresh.http.get(`/api/v1/rooms/${roomId}/chat-settings`).expect(200)).body, { anonymous: null, rules: 'No spoilers.' });
      const c = await ChatClient.connect(`${fresh.ws}/ws/live/${sessionId}?token=${viewer.token}`);
      const notice = await c.next((m) => m.type === 'notice' && m.code === 'conventions', 'the conventions');
      assert.equal(notice.platform, 'Platform rules: be kind.');
      assert.equal(notice.room, 'No spoilers.');
      assert.equal(notice.text, 'Platform rules: be kind.\n\nNo spoilers.');
      assert.ok(c.messages.findIndex((m) => m.type === 'welcome') < c.messages.indexOf(notice), 'after welcome');
      // Setting anonymous keeps the rules; rules: null removes them.
      await fresh.http.put(`/api/v1/rooms/${roomId}/chat-settings`).set(anchor.auth).send({ anonymous: true }).expect(200);
      assert.equal((await fresh.http.get(`/api/v1/rooms/${roomId}/chat-settings`).expect(200)).body.rules, 'No spoilers.');
      await fresh.http.put(`/api/v1/rooms/${roomId}/chat-settings`).set(anchor.auth).send({ rules: null }).expect(200);
      const c2 = await ChatClient.connect(`${fresh.ws}/ws/live/${sessionId}?token=${(await kit.user()).token}`);
      const again = await c2.next((m) => m.type === 'notice' && m.code === 'conventions', 'the conventions again');
      assert.equal(again.room, null);
      assert.equal(again.text, 'Platform rules: be kind.');
      c.close();
      c2.close();
      await fresh.close();
    });

    it('tells the room a moderation pause apart from an end: stream_paused with its end, then stream_resumed when lifted', async () => {
      const [a, b] = kit.nodes;
      const op = await kit.operator();
      // An operator's timed publishing ban pauses the show.
      const { roomId, sessionId, anchor } = await kit.liveRoom();
      const viewer = await kit.user();
      const c = await ChatClient.connect(`${b!.ws}/ws/live/${sessionId}?token=${viewer.token}`);
      await c.next((m) => m.type === 'welcome', 'welcome');
      const until = new Date(Date.now() + 600_000).toISOString();
      await a!.http.post(`/api/v1/admin/users/${anchor.id}/publish-ban`).set(op.auth).send({ until, reason: 'wait' }).expect(201);
      const paused = await c.next((m) => m.type === 'notice' && m.code === 'stream_paused', 'stream_paused');
      assert.equal(paused.until, Date.parse(until));
      assert.equal(paused.session_id, sessionId);
      assert.ok(!c.messages.some((m) => m.code === 'live_ended'), 'a pause is not announced as an end');
      assert.equal((await c.closedWithin()).code, 4004);
      // A socket on the room (not the ended session) waits through the pause and hears it lifted.
      const waiting = await ChatClient.connect(`${b!.ws}/ws?token=${viewer.token}&room_id=${roomId}`);
      await waiting.next((m) => m.type === 'notice' && m.code === 'stream_paused', 'the pause from history');
      await a!.http.delete(`/api/v1/admin/users/${anchor.id}/publish-ban`).set(op.auth).expect(200);
      await waiting.next((m) => m.type === 'notice' && m.code === 'stream_resumed', 'stream_resumed');
      waiting.close();

      // An audit's medium verdict (the domain event, through the bus) pauses for live.auditPause.
      const second = await kit.liveRoom();
      const w2 = await ChatClient.connect(`${a!.ws}/ws/live/${second.sessionId}?token=${viewer.token}`);
      await w2.next((m) => m.type === 'welcome', 'welcome');
      const before = Date.now();
      await a!.control.pipeline.intake.accept({ kind: 'durable', name: 'audit.flagged', event: {
        eventId: `audit-test-${second.roomId}`, at: Date.now(), roomId: second.roomId, kind: 'image', severity: 'medium', bodyVerified: true, label: 'test',
      } }, 'control');
      const auditPause = await w2.next((m) => m.type === 'notice' && m.code === 'stream_paused', 'stream_paused by the audit', 0, 30_000);
      assert.ok(auditPause.until >= before + kit.ports.config.live.auditPause - 1000, `paused until ${auditPause.until}`);
      assert.equal(auditPause.close_method, 2);
      assert.equal((await w2.closedWithin()).code, 4004);
      // An operator's force close (no ban) is an end, not a pause.
      const third = await kit.liveRoom();
      const w3 = await ChatClient.connect(`${a!.ws}/ws/live/${third.sessionId}?token=${viewer.token}`);
      await w3.next((m) => m.type === 'welcome', 'welcome');
      await a!.http.post('/api/v1/admin/live/close').set(op.auth).send({ room_id: third.roomId, reason: 'test' }).expect(200);
      const ended = await w3.next((m) => m.type === 'notice' && (m.code === 'live_ended' || m.code === 'stream_paused'), 'the end');
      assert.equal(ended.code, 'live_ended');
      assert.equal(ended.close_method, 2);
    });

    it('sends the audience\'s comings and goings inside the room\'s chat frames while chat flows, and alone when the room is silent', async () => {
      const [a, b] = kit.nodes;
      const { sessionId } = await kit.liveRoom();
      const [watcher, poster, late, quiet] = [await kit.user(), await kit.user(), await kit.user(), await kit.user()];
      const joinOf = (id: string) => (m: Record<string, any>) => m.type === 'audience_join' && m.users.some((u: { id: string }) => u.id === id);
      const frameWith = (c: ChatClient, id: string) => waitFor(`the join of ${id}`, () => c.frames.find((f) => f.some(joinOf(id))), 15_000, 10);
      const presence = new Set(['audience_join', 'audience_leave', 'online', 'likes']);
      const w = await ChatClient.connect(`${a!.ws}/ws/live/${sessionId}?token=${watcher.token}`);
      await w.next((m) => m.type === 'welcome', 'welcome');
      const p = await ChatClient.connect(`${a!.ws}/ws/live/${sessionId}?token=${poster.token}`);
      await p.next((m) => m.type === 'welcome', 'welcome');
      await frameWith(w, poster.id);
      // Chat flows (a message every 50 ms) while a viewer enters on the other node.
      const from = w.frames.length;
      let posting = true;
      const loop = (async () => {
        for (let i = 0; posting; i++) {
          p.send({ v: 1, type: 'chat', text: `m${i}`, client_id: `m${i}` });
          await new Promise((r) => setTimeout(r, 50));
        }
      })();
      const v = await ChatClient.connect(`${b!.ws}/ws/live/${sessionId}?token=${late.token}`);
      let joined: Array<Record<string, any>>;
      try {
        joined = await frameWith(w, late.id);
      } finally {
        posting = false;
        await loop;
      }
      assert.ok(joined.some((m) => m.type === 'chat'), `the join rides in a chat frame, got ${JSON.stringify(joined.map((m) => m.type))}`);
      const upTo = w.frames.indexOf(joined);
      const alone = w.frames.slice(from, upTo + 1).filter((f) => f.every((m) => presence.has(m.type)));
      assert.deepEqual(alone, [], 'no frame of announcements alone while chat flows');
      // A silent room: the announcement still comes, alone.
      const q = await ChatClient.connect(`${b!.ws}/ws/live/${sessionId}?token=${quiet.token}`);
      const silent = await frameWith(w, quiet.id);
      assert.ok(silent.every((m) => presence.has(m.type)), JSON.stringify(silent));
      for (const c of [w, p, v, q]) c.close();
    });

    it('stores chat in the messages table in batches, not one insert per message', async () => {
      const [a] = kit.nodes;
      const { roomId, sessionId } = await kit.liveRoom();
      const viewer = await kit.user();
      const c = await ChatClient.connect(`${a!.ws}/ws/live/${sessionId}?token=${viewer.token}`);
      await c.next((m) => m.type === 'welcome', 'welcome');
      const store = a!.control.chat.messages;
      const before = { ...store.counters };
      for (let i = 0; i < 20; i++) c.send({ v: 1, type: 'chat', text: `m${i}` });
      await waitFor('20 acks', () => c.ofType('ack').length >= 20);
      await store.flush();
      const rows = await store.list(roomId, { limit: 100 });
      assert.equal(rows.length, 20);
      assert.equal(store.counters.rows - before.rows, 20);
      assert.ok(store.counters.batches - before.batches <= 3, `20 messages took ${store.counters.batches - before.batches} INSERTs`);
      c.close();
    });
  });

  describe(`chat limits on ${set.name}`, () => {
    let kit: ChatKit;
    before(async () => {
      kit = await makeChatKit(set, { chat: { conventions: 'Be kind.', maxLength: 20, words: 'badword,worse', wordAction: 'mask', rate: '3/2s', rateMute: '5s', maxBufferedBytes: 2048 } });
    });
    after(async () => {
      await kit?.close();
    });

    it('caps the length, masks listed words, and mutes a user past 3 messages in 2 s (told with the wait)', async () => {
      const [a] = kit.nodes;
      const { sessionId } = await kit.liveRoom();
      const viewer = await kit.user();
      const c = await ChatClient.connect(`${a!.ws}/ws/live/${sessionId}?token=${viewer.token}`);
      await c.next((m) => m.type === 'welcome', 'welcome');
      assert.equal((await c.next((m) => m.type === 'notice' && m.code === 'conventions', 'the conventions')).text, 'Be kind.');
      c.send({ v: 1, type: 'chat', text: 'x'.repeat(21), client_id: 'long' });
      assert.equal((await c.next((m) => m.client_id === 'long', 'too long')).code, 'message_too_long');
      c.send({ v: 1, type: 'chat', text: 'a BadWord here' });
      assert.equal((await c.next((m) => m.type === 'chat', 'masked')).text, 'a ******* here');
      c.send({ v: 1, type: 'chat', text: 'two' });
      c.send({ v: 1, type: 'chat', text: 'three' });
      c.send({ v: 1, type: 'chat', text: 'four', client_id: 'fourth' });
      const err = await c.next((m) => m.client_id === 'fourth', 'the fourth refused');
      assert.equal(err.code, 'rate_limited');
      assert.ok(err.retry_after_ms >= 4000, `told to wait ${err.retry_after_ms} ms`);
      c.send({ v: 1, type: 'chat', text: 'five', client_id: 'fifth' });
      assert.equal((await c.next((m) => m.client_id === 'fifth', 'still muted')).code, 'rate_limited');
      const metrics = (await a!.http.get('/metrics').expect(200)).text;
      assert.match(metrics, /onair_chat_posts_total\{result="rate_limited"\} 2/);
      assert.match(metrics, /onair_chat_posts_total\{result="message_too_long"\} 1/);
      assert.match(metrics, /onair_chat_sockets [1-9]/);
      c.close();
    });

    it('refuses a message holding a control character, and the other lines of that moment are still recorded', async () => {
      // On SQLite a NUL cut the batch's INSERT short: the whole batch failed, was retried, then
      // dropped, so other viewers' lines of the same moment were lost from the record.
      const [a] = kit.nodes;
      const { roomId, sessionId } = await kit.liveRoom();
      const [bad, good] = [await kit.user(), await kit.user()];
      const c1 = await ChatClient.connect(`${a!.ws}/ws/live/${sessionId}?token=${bad.token}`);
      const c2 = await ChatClient.connect(`${a!.ws}/ws/live/${sessionId}?token=${good.token}`);
      await c1.next((m) => m.type === 'welcome', 'welcome 1');
      await c2.next((m) => m.type === 'welcome', 'welcome 2');
      c1.send({ v: 1, type: 'chat', text: 'nul\u0000here', client_id: 'nul' });
      c1.send({ v: 1, type: 'chat', text: 'bell\u0007', client_id: 'bell' });
      c2.send({ v: 1, type: 'chat', text: 'line one\nline two', client_id: 'ok' });
      assert.equal((await c1.next((m) => m.client_id === 'nul', 'NUL refused')).code, 'invalid_character');
      assert.equal((await c1.next((m) => m.client_id === 'bell', 'BEL refused')).code, 'invalid_character');
      await c2.next((m) => m.type === 'chat' && m.text === 'line one\nline two', 'the good line');
      const op = await kit.operator();
      await waitFor('the good line recorded', async () => {
        const { messages } = (await a!.http.get(`/api/v1/admin/rooms/${roomId}/messages`).set(op.auth).expect(200)).body;
        return messages.some((m: { text: string }) => m.text === 'line one\nline two');
      }, 10_000, 250);
      c1.close();
      c2.close();
    });

    it('refuses posts faster than the room slow mode', async () => {
      const [a] = kit.nodes;
      const { roomId, sessionId, anchor } = await kit.liveRoom();
      await a!.http.post(`/api/v1/rooms/${roomId}/slow-mode`).set(anchor.auth).send({ seconds: 30 }).expect(200);
      const viewer = await kit.user();
      const c = await ChatClient.connect(`${a!.ws}/ws/live/${sessionId}?token=${viewer.token}`);
      await c.next((m) => m.type === 'notice' && m.code === 'slow_mode', 'the slow-mode notice from history');
      c.send({ v: 1, type: 'chat', text: 'first', client_id: '1' });
      await c.next((m) => m.type === 'ack' && m.client_id === '1', 'first accepted');
      c.send({ v: 1, type: 'chat', text: 'second', client_id: '2' });
      const err = await c.next((m) => m.client_id === '2' && m.type === 'error', 'second refused');
      assert.equal(err.code, 'slow_mode');
      assert.ok(err.retry_after_ms > 20_000);
      c.close();
    });

    it('drops a socket that stops reading once its send queue passes the bound', async () => {
      const [a] = kit.nodes;
      const { roomId, sessionId } = await kit.liveRoom();
      const viewer = await kit.user();
      const c = await ChatClient.connect(`${a!.ws}/ws/live/${sessionId}?token=${viewer.token}`);
      await c.next((m) => m.type === 'welcome', 'welcome');
      const chat = a!.control.chat.chat;
      const before = chat.socketCount;
      // Room frames go through the prebuilt-frame path (shared-frame.ts), whose writes the bound below holds.
      const raw0 = frameWrites.raw;
      await a!.pubsub.publish(roomChannel(roomId), { v: 1, type: 'notice', code: 'before_stall', text: 'hi' });
      await c.next((m) => m.type === 'notice' && m.code === 'before_stall', 'a room frame while reading');
      assert.ok(frameWrites.raw > raw0, 'written as a prebuilt frame');
      // The client stops reading: the kernel buffers fill, then the server's queue grows.
      (c.ws as unknown as { _socket: import('node:net').Socket })._socket.pause();
      const pubsub = a!.pubsub;
      const big = 'y'.repeat(60_000);
      let sent = 0;
      // The server-side socket: its unsent bytes never pass the bound (plus the frame that tipped it over).
      const serverSide = [...chat.fanout.socketsOf(roomId)][0] as unknown as { ws: { bufferedAmount: number } };
      const bound = kit.ports.config.chat.maxBufferedBytes;
      let maxBuffered = 0;
      await waitFor('the stalled socket to be dropped', async () => {
        maxBuffered = Math.max(maxBuffered, serverSide.ws.bufferedAmount);
        if (chat.socketCount < before) return true;
        if (sent < 2000) {
          for (let i = 0; i < 20; i++, sent++) await pubsub.publish(roomChannel(roomId), { v: 1, type: 'notice', code: 'filler', text: big });
        }
        return false;
      }, 60_000, 20);
      assert.ok(sent < 2000, `dropped after ${sent} messages of 60 kB`);
      assert.ok(maxBuffered <= bound + 61_000, `at most ${maxBuffered} bytes queued for the stalled socket (bound ${bound})`);
      assert.match((await a!.http.get('/metrics').expect(200)).text, /onair_chat_sockets_dropped_total\{reason="slow_consumer"\} 1/);
      c.ws.terminate();
    });
  });

  describe(`the word filter in refuse mode on ${set.name}`, () => {
    let kit: ChatKit;
    before(async () => {
      kit = await makeChatKit(set, { chat: { words: 'badword', wordAction: 'refuse', rate: 'off' } });
    });
    after(async () => {
      await kit?.close();
    });

    it('refuses a post with a listed word (message_refused) and lets others through unchanged', async () => {
      const [a] = kit.nodes;
      const { sessionId } = await kit.liveRoom();
      const viewer = await kit.user();
      const c = await ChatClient.connect(`${a!.ws}/ws/live/${sessionId}?token=${viewer.token}`);
      await c.next((m) => m.type === 'welcome', 'welcome');
      c.send({ v: 1, type: 'chat', text: 'so BADWORD really', client_id: 'bad' });
      assert.equal((await c.next((m) => m.client_id === 'bad', 'refused')).code, 'message_refused');
      c.send({ v: 1, type: 'chat', text: 'a fine message', client_id: 'ok' });
      await c.next((m) => m.type === 'ack' && m.client_id === 'ok', 'accepted');
      await c.next((m) => m.type === 'chat' && m.text === 'a fine message', 'delivered');
      assert.ok(!c.messages.some((m) => m.type === 'chat' && /badword/i.test(m.text)), 'the refused post reached nobody');
      c.close();
    });
  });
}
