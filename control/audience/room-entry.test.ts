import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testAdapterSets } from '../../core/testing/test-ports.js';
import { cacheKeys } from '../../core/cache/keys.js';
import { liveAudienceTable } from '../../core/database/models/live-audience.model.js';
import { waitFor } from '../../core/testing/wait-for.js';
import { ChatClient, makeChatKit, type ChatKit, type ChatNode } from '../testing/chat-kit.js';

/** Records the audience.* domain events the nodes hand to their intake (passing them on unchanged). */
function watchAudienceEvents(nodes: ChatNode[]): Array<{ name: string; event: Record<string, any>; source: string }> {
  const seen: Array<{ name: string; event: Record<string, any>; source: string }> = [];
  for (const node of nodes) {
    const intake = node.control.pipeline.intake;
    const accept = intake.accept.bind(intake);
    intake.accept = async (out, source) => {
      if (out.kind !== 'none' && out.name.startsWith('audience.')) seen.push({ name: out.name, event: out.event as Record<string, any>, source });
      return accept(out, source);
    };
  }
  return seen;
}

for (const set of testAdapterSets()) {
  describe(`entering and leaving a room on ${set.name}`, () => {
    let kit: ChatKit;
    before(async () => {
      kit = await makeChatKit(set, { chat: { heartbeatTimeout: '2s', pingInterval: '500ms', rate: 'off' } }, 2);
    });
    after(async () => {
      await kit?.close();
    });

    it('refuses each step of the funnel with its own code', async () => {
      const [a] = kit.nodes;
      const viewer = await kit.user();
      await a!.http.post('/api/v1/rooms/999999999/enter').set(viewer.auth).expect(404);
      const anchor = await kit.user('anchor');
      const idle = (await a!.http.post('/api/v1/rooms').set(anchor.auth).send({ title: 'idle' }).expect(201)).body.id as string;
      assert.equal((await a!.http.post(`/api/v1/rooms/${idle}/enter`).set(viewer.auth).expect(409)).body.error.code, 'not_live');
      const { roomId } = await kit.liveRoom();
      await kit.ports.cache.set(cacheKeys.kick(roomId, viewer.id), '1', 60_000);
      const kicked = await a!.http.post(`/api/v1/rooms/${roomId}/enter`).set(viewer.auth).expect(403);
      assert.equal(kicked.body.error.code, 'kicked');
      await kit.ports.cache.del(cacheKeys.kick(roomId, viewer.id));
      const other = await kit.user();
      const live = await kit.liveRoom();
      await a!.http.post(`/api/v1/rooms/${live.roomId}/blacklist`).set(live.anchor.auth).send({ user_id: other.id }).expect(200);
      assert.equal((await a!.http.post(`/api/v1/rooms/${live.roomId}/enter`).set(other.auth).expect(403)).body.error.code, 'blacklisted');
      assert.equal((await a!.http.post(`/api/v1/rooms/${roomId}/exit`).set(viewer.auth).expect(409)).body.error.code, 'not_in_room');
    });

    it('enters with play URLs bound to the viewer, counts them once, and exits with watch time and a media kick', async () => {
      const [a, b] = kit.nodes;
      const events = watchAudienceEvents([a!, b!]);
      const { roomId, sessionId } = await kit.liveRoom();
      const viewer = await kit.user();
      const watcher = await kit.user();
      const w = await ChatClient.connect(`${b!.ws}/ws/live/${sessionId}?token=${watcher.token}`);
      await w.next((m) => m.type === 'welcome', 'welcome');
      const entered = (await a!.http.post(`/api/v1/rooms/${roomId}/enter`).set(viewer.auth).expect(200)).body;
      assert.equal(entered.session_id, sessionId);
      assert.equal(entered.online, 2);
      assert.ok(entered.flv_url.includes(`token=${encodeURIComponent(entered.token)}`));
      assert.deepEqual(await a!.control.hooks.authorizePlay({ app: 'live', streamName: roomId, token: entered.token, query: {}, clientIp: '127.0.0.1', protocol: 'http-flv' }), { allow: true, viewerId: viewer.id });
      const join = await w.next((m) => m.type === 'audience_join' && m.users.some((u: { id: string }) => u.id === viewer.id), 'audience_join on node B');
      assert.equal(join.online, 2);
      // A second enter (a refresh) does not count twice.
      assert.equal((await a!.http.post(`/api/v1/rooms/${roomId}/enter`).set(viewer.auth).expect(200)).body.online, 2);
      assert.equal((await a!.http.get(`/api/v1/rooms/${roomId}`).expect(200)).body.online, 2);
      // The viewer's own chat socket through the URL enter gave.
      const c = await ChatClient.connect(entered.chat_url.replace(/^ws:\/\/[^/]+/, a!.ws));
      assert.equal((await c.next((m) => m.type === 'welcome', 'welcome')).can_post, true);
      // One socket per viewer per room: the same user's socket on node B replaces the one on node A.
      const onB = await ChatClient.connect(`${b!.ws}/ws/live/${sessionId}?token=${viewer.token}`);
      await onB.next((m) => m.type === 'welcome', 'welcome on B');
      assert.equal((await c.closedWithin()).code, 4005, 'the older socket on node A is replaced');
      const rows = liveAudienceTable(kit.ports.db.sequelize);
      await waitFor('the audience row', async () => (await rows.count({ where: { session_id: sessionId, user_id: viewer.id } })) === 1);
      await new Promise((r) => setTimeout(r, 1100));
      const exit = await a!.http.post(`/api/v1/rooms/${roomId}/exit`).set(viewer.auth).expect(200);
      assert.equal(exit.body.online, 1);
      assert.ok(a!.media.kickedViewers.includes(viewer.id), 'media was asked to drop the viewer');
      assert.equal((await onB.closed).code, 1000, 'the exit on node A closes the socket on node B');
      await w.next((m) => m.type === 'audience_leave', 'audience_leave');
      const row = await waitFor('the watch time', async () => {
        const r = await rows.findOne({ where: { session_id: sessionId, user_id: viewer.id } });
        return r?.get().watch_s !== null && r?.get().watch_s !== undefined ? r.get() : undefined;
      });
      assert.ok(row.watch_s! >= 1, `watched ${row.watch_s} s`);
      const history = (await a!.http.get('/api/v1/me/watch-history').set(viewer.auth).expect(200)).body.items;
      assert.equal(history[0].session_id, sessionId);
      assert.ok(history[0].watch_s >= 1);
      // Enter and exit are domain events (fan-out, one route: control/audience/audience-events.handlers.ts).
      const enters = events.filter((e) => e.name === 'audience.entered' && e.event.roomId === roomId);
      assert.deepEqual(enters.map((e) => e.event.userId).sort(), [viewer.id, watcher.id].sort(), 'the watcher entered by socket, the viewer by /enter: once each');
      assert.ok(enters.every((e) => e.event.sessionId === sessionId && e.source === 'control'));
      const exited = events.filter((e) => e.name === 'audience.exited' && e.event.roomId === roomId);
      assert.equal(exited.length, 1);
      assert.equal(exited[0]!.event.userId, viewer.id);
      assert.equal(exited[0]!.event.reason, 'exit');
      assert.ok(exited[0]!.event.at - exited[0]!.event.enteredAt >= 1000, 'the exit carries the enter time');
      w.close();
    });

    it('counts a user once in the settlement: the enter row and their bound player are one viewer', async () => {
      const [a] = kit.nodes;
      const { roomId, sessionId, anchor } = await kit.liveRoom();
      const [viewer, other] = await Promise.all([kit.user(), kit.user()]);
      const entered = (await a!.http.post(`/api/v1/rooms/${roomId}/enter`).set(viewer.auth).expect(200)).body;
      const decision = await a!.control.hooks.authorizePlay({ app: 'live', streamName: roomId, token: entered.token, query: {}, clientIp: '127.0.0.1', protocol: 'http-flv' });
      assert.ok(decision.allow && decision.viewerId === viewer.id);
      // Media reports the viewer's player (its viewer id is the user id) and an anonymous one.
      await a!.control.audience.viewerJoined({ streamName: roomId, viewerId: viewer.id, at: Date.now() });
      await a!.control.audience.viewerJoined({ streamName: roomId, viewerId: 'v-anon-1', at: Date.now() });
      await a!.http.post(`/api/v1/rooms/${roomId}/enter`).set(other.auth).expect(200);
      const rows = liveAudienceTable(kit.ports.db.sequelize);
      await waitFor('four audience rows', async () => (await rows.count({ where: { session_id: sessionId } })) === 4);
      await a!.http.post('/api/v1/live/close').set(anchor.auth).send({ room_id: roomId }).expect(200);
      await a!.control.settlement.idle();
      const stats = await a!.control.settlement.get(sessionId);
      assert.equal(stats?.totalViewers, 3, 'viewer (enter + player), other (enter), the anonymous player');
      assert.ok(stats!.peakViewers >= 2, `peak ${stats!.peakViewers}`);
    });

    it('keeps the online count equal to the live sockets: closed apps and a dead node time out', async () => {
      const [a, b] = kit.nodes;
      const events = watchAudienceEvents([a!, b!]);
      const doomed = await kit.node();
      const { roomId, sessionId } = await kit.liveRoom();
      const users = await Promise.all([kit.user(), kit.user(), kit.user()]);
      const onA = await ChatClient.connect(`${a!.ws}/ws/live/${sessionId}?token=${users[0]!.token}`);
      const closesApp = await ChatClient.connect(`${a!.ws}/ws/live/${sessionId}?token=${users[1]!.token}`);
      const onDoomed = await ChatClient.connect(`${doomed.ws}/ws/live/${sessionId}?token=${users[2]!.token}`);
      for (const c of [onA, closesApp, onDoomed]) await c.next((m) => m.type === 'welcome', 'welcome');
      const online = async () => (await a!.http.get(`/api/v1/rooms/${roomId}`).expect(200)).body.online as number;
      assert.equal(await online(), 3);
      closesApp.ws.terminate(); // the app is gone, no exit call
      await doomed.kill(); // and a control node dies with its viewers
      await waitFor('the count to follow the live sockets', async () => (await online()) === 1, 20_000, 200);
      await onA.next((m) => m.type === 'online' && m.count === 1, 'the online count on the remaining socket');
      const timedOut = events.filter((e) => e.name === 'audience.exited' && e.event.roomId === roomId && e.event.reason === 'timeout');
      // (Not an exact list: on a loaded machine the remaining viewer may miss a 2 s heartbeat too, and re-enter.)
      for (const gone of [users[1]!, users[2]!]) {
        assert.equal(timedOut.filter((e) => e.event.userId === gone.id).length, 1, 'each silent viewer exits once, by timeout');
      }
      // The remaining socket keeps its viewer in, heartbeat after heartbeat.
      await new Promise((r) => setTimeout(r, 3000));
      assert.equal(await online(), 1);
      onA.close();
    });
  });

  describe(`in-room moderation on ${set.name}`, () => {
    let kit: ChatKit;
    before(async () => {
      kit = await makeChatKit(set, { chat: { rate: 'off' } }, 2);
    });
    after(async () => {
      await kit?.close();
    });

    it('kick drops chat on every node and media, and blocks re-entry until it expires', async () => {
      const [a, b] = kit.nodes;
      const { roomId, sessionId, anchor } = await kit.liveRoom();
      const viewer = await kit.user();
      await a!.http.post(`/api/v1/rooms/${roomId}/enter`).set(viewer.auth).expect(200);
      const c = await ChatClient.connect(`${b!.ws}/ws/live/${sessionId}?token=${viewer.token}`);
      await c.next((m) => m.type === 'welcome', 'welcome');
      const kick = await a!.http.post(`/api/v1/rooms/${roomId}/kick`).set(anchor.auth).send({ user_id: viewer.id, duration: '2s', reason: 'spam' }).expect(200);
      assert.ok(kick.body.until);
      assert.equal((await c.closed).code, 4003);
      assert.ok(a!.media.kickedViewers.includes(viewer.id));
      assert.equal((await a!.http.post(`/api/v1/rooms/${roomId}/enter`).set(viewer.auth).expect(403)).body.error.code, 'kicked');
      const e = await ChatClient.connect(`${a!.ws}/ws/live/${sessionId}?token=${viewer.token}`).then(() => undefined, (err: { status: number }) => err);
      assert.equal(e?.status, 403);
      await waitFor('the kick to expire', async () => (await a!.http.post(`/api/v1/rooms/${roomId}/enter`).set(viewer.auth)).status === 200, 10_000, 250);
    });

    it('mutes for a time, and room admins moderate viewers but not each other or the anchor', async () => {
      const [a] = kit.nodes;
      const { roomId, sessionId, anchor } = await kit.liveRoom();
      const [admin1, admin2, viewer] = await Promise.all([kit.user(), kit.user(), kit.user()]);
      await a!.http.post(`/api/v1/rooms/${roomId}/admins`).set(viewer.auth).send({ user_id: admin1.id }).expect(403);
      await a!.http.post(`/api/v1/rooms/${roomId}/admins`).set(anchor.auth).send({ user_id: admin1.id }).expect(200);
      await a!.http.post(`/api/v1/rooms/${roomId}/admins`).set(anchor.auth).send({ user_id: admin2.id }).expect(200);
      assert.equal((await a!.http.post(`/api/v1/rooms/${roomId}/mute`).set(admin1.auth).send({ user_id: admin2.id, duration: '1m' }).expect(403)).body.error.code, 'target_is_admin');
      assert.equal((await a!.http.post(`/api/v1/rooms/${roomId}/kick`).set(admin1.auth).send({ user_id: anchor.id }).expect(403)).body.error.code, 'target_is_anchor');
      assert.equal((await a!.http.post(`/api/v1/rooms/${roomId}/admins`).set(admin1.auth).send({ user_id: viewer.id }).expect(403)).body.error.code, 'not_room_moderator');
      const c = await ChatClient.connect(`${a!.ws}/ws/live/${sessionId}?token=${viewer.token}`);
      await c.next((m) => m.type === 'welcome', 'welcome');
      await a!.http.post(`/api/v1/rooms/${roomId}/mute`).set(admin1.auth).send({ user_id: viewer.id, duration: '1m' }).expect(200);
      await c.next((m) => m.type === 'muted' && m.user_id === viewer.id, 'muted broadcast');
      c.send({ v: 1, type: 'chat', text: 'can I talk?', client_id: 'm' });
      const err = await c.next((m) => m.client_id === 'm', 'refused');
      assert.equal(err.code, 'muted');
      assert.ok(err.retry_after_ms > 50_000);
      await a!.http.delete(`/api/v1/rooms/${roomId}/mute/${viewer.id}`).set(admin1.auth).expect(204);
      c.send({ v: 1, type: 'chat', text: 'thanks', client_id: 't' });
      assert.equal((await c.next((m) => m.client_id === 't', 'accepted')).type, 'ack');
      c.close();
    });

    it('deletes a message for everyone, queues reports for operators, and logs every action', async () => {
      const [a, b] = kit.nodes;
      const { roomId, sessionId, anchor } = await kit.liveRoom();
      const viewer = await kit.user();
      const c = await ChatClient.connect(`${a!.ws}/ws/live/${sessionId}?token=${viewer.token}`);
      const other = await ChatClient.connect(`${b!.ws}/ws/live/${sessionId}?token=${anchor.token}`);
      await other.next((m) => m.type === 'welcome', 'welcome');
      c.send({ v: 1, type: 'chat', text: 'something rude' });
      const ack = await c.next((m) => m.type === 'ack', 'ack');
      await a!.http.post(`/api/v1/rooms/${roomId}/reports`).set(anchor.auth).send({ message_id: ack.id, reason: 'rude' }).expect(201);
      await a!.http.delete(`/api/v1/rooms/${roomId}/messages/${ack.id}`).set(viewer.auth).expect(403);
      await a!.http.delete(`/api/v1/rooms/${roomId}/messages/${ack.id}`).set(anchor.auth).expect(204);
      await other.next((m) => m.type === 'message_deleted' && m.message_id === ack.id, 'the deletion on node B');
      const op = await kit.operator();
      await a!.http.get('/api/v1/admin/chat/reports').set(viewer.auth).expect(403);
      const reports = (await a!.http.get('/api/v1/admin/chat/reports').set(op.auth).expect(200)).body.reports;
      assert.ok(reports.some((r: { message_id: string; reason: string }) => r.message_id === ack.id && r.reason === 'rude'));
      // The report quotes the line (text, author, deleted since) so the console need not scan the room's messages.
      const reported = reports.find((r: { message_id: string }) => r.message_id === ack.id);
      assert.deepEqual({ ...reported.message, at: undefined }, { text: 'something rude', user_id: viewer.id, username: viewer.username, hidden: true, at: undefined });
      assert.ok(Number.isFinite(Date.parse(reported.message.at)), reported.message.at);
      // A report of the room itself (no message) says so with message null.
      await a!.http.post(`/api/v1/rooms/${roomId}/reports`).set(viewer.auth).send({ reason: 'whole room' }).expect(201);
      const roomReport = (await a!.http.get('/api/v1/admin/chat/reports').set(op.auth).expect(200)).body.reports.find((r: { reason: string; room_id: string }) => r.reason === 'whole room' && r.room_id === roomId);
      assert.equal(roomReport.message_id, null);
      assert.equal(roomReport.message, null);
      const messages = (await a!.http.get(`/api/v1/admin/rooms/${roomId}/messages`).set(op.auth).expect(200)).body.messages;
      assert.equal(messages.find((m: { id: string }) => m.id === ack.id)?.hidden, true);
      const log = (await a!.http.get(`/api/v1/admin/chat/moderation-log?room_id=${roomId}`).set(op.auth).expect(200)).body.entries;
      assert.deepEqual(log.map((e: { action: string }) => e.action).sort(), ['delete_message', 'report', 'report']);
      // The history a resume reads carries the deletion too.
      const history = (await a!.http.get(`/api/v1/rooms/${roomId}/chat`).expect(200)).body.messages;
      assert.ok(history.some((m: { type: string; message_id: string }) => m.type === 'message_deleted' && m.message_id === ack.id));
      c.close();
      other.close();
    });
  });
}
