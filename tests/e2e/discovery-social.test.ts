/**
 * Issue 12's discovery and personal center through the real stack: the recommended list (pinned,
 * then followed, then the hot ranking from viewers, gift coins and likes, cached 10 minutes), likes
 * and shares (aggregated into the room's chat), and the caller's own rooms, following and fans.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { missingTool } from '../../core/testing/tools.js';
import type { Delivery, PubSub } from '../../core/pubsub/index.js';
import { stackAdapterSets, until, type Stack } from './onair-stack.js';
import { startMoneyStack, type LiveRoom, type MoneyStack } from './gifts-kit.js';

const skip = missingTool('ffmpeg');

for (const set of stackAdapterSets()) describe(`discovery and personal center on ${set.name}`, { skip }, () => {
  let money: MoneyStack;
  let stack: Stack;
  let op: string;
  const anchors: Array<{ token: string; id: string }> = [];
  const rooms: LiveRoom[] = [];
  let viewer: { token: string; id: string };
  let otherNode: PubSub | undefined;
  const received: Delivery[] = [];

  before(async () => {
    money = await startMoneyStack(set);
    ({ stack, op } = money);
    viewer = await stack.user('viewer');
    for (let i = 0; i < 3; i++) {
      anchors.push(await stack.user('anchor'));
      rooms.push(await money.liveRoom(anchors[i]!));
    }
    otherNode = await money.otherNodeOn(rooms[0]!.roomId, received);
  });
  after(async () => {
    await money?.close();
  });

  const ids = (list: any[]) => list.map((r) => r.id);

  it('counts likes (batched) and shares per show, and sends the totals into the chat aggregated', async () => {
    const [a] = rooms;
    let last: any;
    for (let i = 0; i < 5; i++) {
      last = await stack.call('POST', `/rooms/${a!.roomId}/like`, { count: 10 }, viewer.token);
      assert.equal(last.status, 200, JSON.stringify(last.body));
    }
    assert.deepEqual(last.body, { room_id: a!.roomId, session_id: a!.sessionId, likes: 50, shares: 0 });
    const share = await stack.call('POST', `/rooms/${a!.roomId}/share`, undefined, viewer.token);
    assert.equal(share.body.shares, 1);
    assert.match(share.body.share_url, new RegExp(`/watch/${a!.roomId}$`));
    assert.equal((await stack.call('POST', `/rooms/${a!.roomId}/like`, { count: 1000 }, viewer.token)).status, 400);
    assert.equal((await stack.call('POST', `/rooms/${a!.roomId}/like`, { count: 1 })).status, 401);
    const idle = await stack.call('POST', '/rooms', { title: 'idle' }, anchors[0]!.token);
    assert.equal((await stack.call('POST', `/rooms/${idle.body.id}/like`, {}, viewer.token)).body.error.code, 'room_not_live');
    if (otherNode) {
      const totals = await until('like totals in the chat', () => {
        const m = received.map((d) => d.message as any).filter((x) => x.type === 'likes');
        return m.some((x) => x.likes === 50 && x.shares === 1) && m;
      }, 10_000);
      // Six requests in quick succession: at most one message a second, so fewer messages than requests.
      assert.ok(totals.length < 6, `six like/share requests became ${totals.length} chat messages`);
    }
  });

  it('recommends pinned rooms first, then followed, then hot (gift coins, likes), cached 10 minutes', async () => {
    const [a, b, c] = rooms;
    // Room b earns gift coins; the viewer follows c's anchor.
    const gift = (await stack.call('POST', '/admin/gifts', { name: 'Star', price: 50 }, op)).body;
    await stack.call('POST', `/admin/wallets/${viewer.id}/adjust`, { amount: 10_000, reason: 'test coins' }, op);
    assert.equal((await stack.call('POST', `/rooms/${b!.roomId}/gifts`, { gift_id: gift.id, count: 2, client_order_id: 'hot-00001' }, viewer.token)).status, 201);
    assert.equal((await stack.call('POST', `/rooms/${c!.roomId}/follow`, undefined, viewer.token)).status, 200);

    const anonymous = (await stack.call('GET', '/rooms/recommended')).body;
    assert.deepEqual(ids(anonymous.rooms), [b!.roomId, a!.roomId, c!.roomId], 'hot: 100 coins > 50 likes > nothing');
    assert.deepEqual(anonymous.rooms.map((r: any) => r.hot_score), [10, 0.5, 0]);
    assert.equal(anonymous.total, 3);
    const followed = (await stack.call('GET', '/recommend', undefined, viewer.token)).body;
    assert.deepEqual(ids(followed.rooms), [c!.roomId, b!.roomId, a!.roomId]);
    assert.equal(followed.rooms[0].followed, true);

    assert.equal((await stack.call('POST', `/admin/rooms/${a!.roomId}/pin`, { position: 0 }, op)).status, 200);
    assert.equal((await stack.call('POST', `/admin/rooms/${a!.roomId}/pin`, {}, viewer.token)).status, 403);
    const pinned = (await stack.call('GET', '/rooms/recommended', undefined, viewer.token)).body;
    assert.deepEqual(ids(pinned.rooms), [a!.roomId, c!.roomId, b!.roomId]);
    assert.equal(pinned.rooms[0].pinned, true);

    // The hot ranking is cached: c's big gift now does not reorder the hot part until it expires.
    await stack.call('POST', `/rooms/${c!.roomId}/gifts`, { gift_id: gift.id, count: 50, client_order_id: 'hot-00002' }, viewer.token);
    await stack.call('POST', `/rooms/${c!.roomId}/follow`, undefined, anchors[0]!.token);
    const cached = (await stack.call('GET', '/rooms/recommended')).body;
    assert.deepEqual(ids(cached.rooms), [a!.roomId, b!.roomId, c!.roomId]);
    assert.equal(cached.rooms[2].hot_score, 0);

    const page = (await stack.call('GET', '/rooms/recommended?limit=1&offset=1')).body;
    assert.deepEqual(ids(page.rooms), [b!.roomId]);
    assert.equal(page.next_offset, 2);
    assert.equal((await stack.call('GET', '/rooms/recommended?limit=1&offset=2')).body.next_offset, null);
    assert.equal((await stack.call('DELETE', `/admin/rooms/${a!.roomId}/pin`, undefined, op)).body.was_pinned, true);
    assert.deepEqual(ids((await stack.call('GET', '/rooms/recommended')).body.rooms), [b!.roomId, a!.roomId, c!.roomId]);
  });

  it("lists the caller's own rooms, following and fans, paged; never another user's", async () => {
    const [, , c] = rooms;
    const mine = (await stack.call('GET', '/me/rooms', undefined, anchors[0]!.token)).body.rooms;
    assert.deepEqual(mine.map((r: any) => [r.id, r.is_live]).slice(0, 1), [[rooms[0]!.roomId, true]]);
    assert.equal(mine.length, 2, 'the live room and the idle one');
    assert.deepEqual((await stack.call('GET', '/me/rooms', undefined, viewer.token)).body.rooms, []);

    const following = (await stack.call('GET', '/me/following', undefined, viewer.token)).body;
    assert.equal(following.total, 1);
    assert.deepEqual(following.following.map((f: any) => [f.user_id, f.rooms[0].id, f.rooms[0].is_live]), [[anchors[2]!.id, c!.roomId, true]]);
    const fans = (await stack.call('GET', '/me/fans?limit=1', undefined, anchors[2]!.token)).body;
    assert.equal(fans.total, 2);
    assert.equal(fans.fans.length, 1);
    assert.equal(fans.fans[0].user_id, anchors[0]!.id, 'newest first');
    assert.equal(fans.next_offset, 1);
    const second = (await stack.call('GET', '/me/fans?limit=1&offset=1', undefined, anchors[2]!.token)).body;
    assert.deepEqual([second.fans[0].user_id, second.next_offset], [viewer.id, null]);
    assert.equal((await stack.call('GET', '/me/fans', undefined, viewer.token)).body.total, 0, "the viewer sees their own fans (none), not anyone else's");
    assert.equal((await stack.call('GET', '/me/following')).status, 401);

    assert.equal((await stack.call('DELETE', `/rooms/${c!.roomId}/follow`, undefined, viewer.token)).status, 200);
    assert.equal((await stack.call('GET', '/me/following', undefined, viewer.token)).body.total, 0);
  });
});
