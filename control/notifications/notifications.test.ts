/**
 * Notifications delivered live (issue 12 point 7): the notification socket on control's WebSocket
 * seam (auth at upgrade, wrong_user), the go-live fan-out written in chunks by the worker and pushed
 * to a follower's sockets on another control node through the pub/sub port (a channel per user,
 * subscribed only while the user has a socket on the node), and read/unread over the API, whose
 * changes reach the sockets as a new unread count. Both adapter sets: SQLite + in-process pub/sub,
 * MariaDB + Redis (two control nodes on one Redis).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import request from 'supertest';
import { eventIds } from '../../core/events/event-route.js';
import { testAdapterSets } from '../../core/testing/test-ports.js';
import { waitFor } from '../../core/testing/wait-for.js';
import { ChatClient, makeChatKit, refusedUpgrade as refused, type ChatKit } from '../testing/chat-kit.js';
import { notificationChannel } from './notification-push.js';
import { LIVE_NOTICE_WINDOW_MS } from './session-live.handler.js';

import { CloseMethod } from '../live-sessions/live-session.js';

for (const set of testAdapterSets()) {
  describe(`notifications over WebSocket on ${set.name}`, () => {
    let kit: ChatKit;
    before(async () => {
      // Chunks of 3 followers: the fan-out below takes several chunks.
      kit = await makeChatKit(set, { notifications: { fanoutBatch: 3 } }, 2); // a second control node on the same database and broker
    });
    after(async () => {
      await kit?.close();
    });

    /** An anchor's room goes live the way the callback consumer sees it: session.live on the bus. */
    const goLive = async (anchor: { id: string; auth: { Authorization: string } }, roomId: string, streamKey: string) => {
      const control = kit.nodes[0]!.control;
      const d = await control.hooks.authorizePublish({ app: 'live', streamKey, query: {}, clientIp: '127.0.0.1' });
      assert.ok(d.allow);
      await control.liveSessions.markLive({ streamName: roomId, app: 'live', publisherId: `p${roomId}`, sessionId: d.sessionId, clientIp: '127.0.0.1', at: Date.now() });
      await control.pipeline.intake.accept({ kind: 'durable', name: 'session.live', event: {
        eventId: eventIds.sessionLive(d.sessionId!), at: Date.now(), sessionId: d.sessionId!, roomId, anchorId: anchor.id,
      } }, 'control');
      return d.sessionId!;
    };
    const anchorRoom = async () => {
      const anchor = await kit.user('anchor');
      const room = await request(kit.nodes[0]!.control.app).post('/api/v1/rooms').set(anchor.auth).send({ title: 'Notify show' }).expect(201);
      return { anchor, roomId: String(room.body.id), streamKey: room.body.stream_key as string };
    };

    /** A socket ticket of `user` from node `n`'s API (POST /notifications/ws-ticket), what the web client puts in the URL. */
    const ticket = async (user: { auth: { Authorization: string } }, n = 0): Promise<string> => {
      const res = await request(kit.nodes[n]!.control.app).post('/api/v1/notifications/ws-ticket').set(user.auth).expect(201);
      assert.equal(res.body.expires_in, 60);
      assert.equal(res.body.url, `/ws/notification?ticket=${res.body.ticket}`);
      return res.body.ticket as string;
    };

    it('refuses an upgrade without a credential, a JWT in the URL (token_in_url), and a uid that is not the user (403 wrong_user)', async () => {
      const [a] = kit.nodes;
      const viewer = await kit.user();
      let e = await refused(`${a!.ws}/ws/notification`);
      assert.equal(e.status, 401);
      assert.equal(e.body.error.code, 'token_required');
      // The long-lived JWT in the query is refused, valid or not, on both paths: URLs reach proxy logs and consoles.
      for (const url of [`/ws/notification?token=${viewer.token}`, `/ws/notification/${viewer.id}?token=${viewer.token}`, '/ws/notification?token=a.b.c']) {
        e = await refused(`${a!.ws}${url}`);
        assert.equal(e.status, 401, url);
        assert.equal(e.body.error.code, 'token_in_url', url);
      }
      e = await refused(`${a!.ws}/ws/notification`, { Authorization: 'Bearer a.b.c' });
      assert.equal(e.status, 401);
      assert.equal(e.body.error.code, 'invalid_token');
      const other = await kit.user();
      e = await refused(`${a!.ws}/ws/notification/${other.id}?ticket=${await ticket(viewer)}`);
      assert.equal(e.status, 403);
      assert.equal(e.body.error.code, 'wrong_user');
      e = await refused(`${a!.ws}/ws/notification/abc?ticket=${await ticket(viewer)}`);
      assert.equal(e.status, 403);
      // A ticket on the user's own uid, and the header form (non-browser clients), are accepted.
      const ok = await ChatClient.connect(`${a!.ws}/ws/notification/${viewer.id}?ticket=${await ticket(viewer)}`);
      assert.deepEqual(await ok.next((m) => m.type === 'unread'), { v: 1, type: 'unread', count: 0 });
      ok.send({ v: 1, type: 'ping', t: 7 });
      assert.deepEqual(await ok.next((m) => m.type === 'pong'), { v: 1, type: 'pong', t: 7 });
      ok.close();
      const byHeader = await ChatClient.connect(`${a!.ws}/ws/notification`, viewer.auth);
      await byHeader.next((m) => m.type === 'unread');
      byHeader.close();
    });

    it('a socket ticket opens one socket of its user, once, on any node; a used, forged, expired or other-purpose ticket is refused', async () => {
      const [a, b] = kit.nodes;
      const viewer = await kit.user();
      const other = await kit.user();
      assert.equal((await request(a!.control.app).post('/api/v1/notifications/ws-ticket')).status, 401, 'a ticket needs a login');
      const t = await ticket(viewer, 0);
      // Issued on node a, taken on node b (the cache every node shares), for the ticket's user.
      const sock = await ChatClient.connect(`${b!.ws}/ws/notification?ticket=${t}`);
      await sock.next((m) => m.type === 'unread');
      sock.close();
      // Single use: the same ticket again, on either node, is refused.
      for (const node of [a, b]) {
        const e = await refused(`${node!.ws}/ws/notification?ticket=${t}`);
        assert.equal(e.status, 401);
        assert.equal(e.body.error.code, 'invalid_ticket');
      }
      // Bound to its user: viewer's ticket on the other user's path is refused.
      let e = await refused(`${a!.ws}/ws/notification/${other.id}?ticket=${await ticket(viewer)}`);
      assert.equal(e.status, 403);
      assert.equal(e.body.error.code, 'wrong_user');
      // Forged, or a credential of another purpose (the room's play/entry token, the JWT as a ticket): refused.
      const { anchor, roomId, streamKey } = await anchorRoom();
      await goLive(anchor, roomId, streamKey); // a play token is for a live room
      const play = (await request(a!.control.app).get(`/api/v1/rooms/${roomId}/play-token`).set(viewer.auth).expect(200)).body.token as string;
      assert.ok(play);
      for (const bad of [`nt_${'A'.repeat(32)}`, viewer.token, play]) {
        e = await refused(`${a!.ws}/ws/notification?ticket=${encodeURIComponent(bad)}`);
        assert.equal(e.status, 401);
        assert.equal(e.body.error.code, 'invalid_ticket');
      }
      // A ticket is no chat credential either.
      e = await refused(`${a!.ws}/ws?room_id=${roomId}&token=${await ticket(viewer)}`);
      assert.equal(e.status, 401);
      // Expired: a ticket past ONAIR_NOTIFY_TICKET_TTL (60 s; its expiry moved back here) is refused.
      const late = await ticket(viewer);
      const key = `ticket:notify:${createHash('sha256').update(late).digest('hex')}`;
      const stored = (await kit.ports.cache.get(key))!;
      await kit.ports.cache.set(key, `${stored.split('|')[0]}|${Date.now() - 1}`, 60_000);
      e = await refused(`${a!.ws}/ws/notification?ticket=${late}`);
      assert.equal(e.status, 401);
      assert.equal(e.body.error.code, 'ticket_expired');
    });

    it('pushes a go-live notification to every follower on any node, the same object GET /notifications lists, with the unread count', async () => {
      const [a, b] = kit.nodes;
      const { anchor, roomId, streamKey } = await anchorRoom();
      const fans = await Promise.all(Array.from({ length: 7 }, () => kit.user()));
      for (const fan of fans) await request(a!.control.app).post(`/api/v1/rooms/${roomId}/follow`).set(fan.auth).expect(200);
      const fan = fans[0]!;
      // The fan has a socket on node b only (seed 000's path), another fan one on node a (the short path).
      const onB = await ChatClient.connect(`${b!.ws}/ws/notification/${fan.id}?ticket=${await ticket(fan)}`);
      const onA = await ChatClient.connect(`${a!.ws}/ws/notification?ticket=${await ticket(fans[6]!)}`);
      await onB.next((m) => m.type === 'unread' && m.count === 0);
      await onA.next((m) => m.type === 'unread' && m.count === 0);
      // Subscribed only where the user has a socket: node b for fan 0, node a for fan 6, nobody for fan 1.
      assert.equal(await kit.cluster.numSub(notificationChannel(fan.id)), 1);
      assert.equal(await kit.cluster.numSub(notificationChannel(fans[1]!.id)), 0);
      assert.equal(b!.control.notifications.hub.userCount, 1);

      const sessionId = await goLive(anchor, roomId, streamKey);
      const pushed = await onB.next((m) => m.type === 'notification', 'the live notification');
      assert.equal(pushed.v, 1);
      assert.equal(pushed.notification.kind, 'live_started');
      // Named: the anchor's username and the room's title (a client says "{anchor} is live now: {title}" without a lookup), next to the ids.
      assert.deepEqual(pushed.notification.payload, {
        room_id: roomId, session_id: sessionId, anchor_id: anchor.id, at: pushed.notification.payload.at, anchor_name: anchor.username, room_title: 'Notify show',
      });
      await onB.next((m) => m.type === 'unread' && m.count === 1, 'unread 1');
      await onA.next((m) => m.type === 'notification' && m.notification.payload.room_id === roomId);
      const listed = (await request(b!.control.app).get('/api/v1/notifications').set(fan.auth).expect(200)).body;
      assert.deepEqual(listed.notifications[0], pushed.notification);
      assert.equal(listed.unread_count, 1);
      // Every follower was written (7 followers in chunks of 3), once, and the job is done.
      await waitFor('every follower notified', async () => {
        const [row] = await kit.ports.db.sequelize.query<{ n: number }>("SELECT COUNT(*) AS n FROM notifications WHERE dedupe_key = ?", { replacements: [`live:${sessionId}`], type: 'SELECT' as never });
        return Number(row!.n) === 7 || undefined;
      }, 10_000, 50);
      // The job is marked done by its own statement after the last chunk's rows: read until it is
      // (CI once read it between the two and saw 'pending').
      const readJob = async () => {
        const [job] = await kit.ports.db.sequelize.query<{ status: string; written: number }>('SELECT status, written FROM notification_fanouts WHERE dedupe_key = ?', { replacements: [`live:${sessionId}`], type: 'SELECT' as never });
        return { status: job!.status, written: Number(job!.written) };
      };
      await waitFor('the fan-out job done', async () => ((await readJob()).status === 'done' ? true : undefined), 10_000, 50);
      assert.deepEqual(await readJob(), { status: 'done', written: 7 });
      // The same session.live again (a retry, another edge): nobody is notified twice.
      await a!.control.pipeline.intake.accept({ kind: 'durable', name: 'session.live', event: {
        eventId: eventIds.sessionLive(sessionId), at: Date.now(), sessionId, roomId, anchorId: anchor.id,
      } }, 'control');
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(onB.ofType('notification').length, 1);
      assert.equal((await request(a!.control.app).get('/api/v1/notifications').set(fan.auth).expect(200)).body.notifications.length, 1);

      // Closing the socket unsubscribes node b.
      onB.close();
      await waitFor('unsubscribed', async () => ((await kit.cluster.numSub(notificationChannel(fan.id))) === 0) || undefined, 5000, 20);
      assert.equal(b!.control.notifications.hub.userCount, 0);
      onA.close();
    });

    it('a replay_ready notice names the anchor and the room\'s title', async () => {
      const control = kit.nodes[0]!.control;
      const { anchor, roomId } = await anchorRoom();
      const fan = await kit.user();
      await request(control.app).post(`/api/v1/rooms/${roomId}/follow`).set(fan.auth).expect(200);
      const replayId = `${Date.now()}`;
      await control.pipeline.intake.accept({ kind: 'durable', name: 'replay.ready', event: {
        eventId: `replay.ready:named:${replayId}`, at: Date.now(), replayId, roomId,
        objectKey: `replays/${roomId}/n/0.mp4`, posterKey: null, durationMs: 60_000, size: 1000,
      } }, 'control');
      const notice = await waitFor('the replay notice', async () => (await request(control.app).get('/api/v1/notifications').set(fan.auth).expect(200)).body
        .notifications.find((n: { kind: string }) => n.kind === 'replay_ready'), 10_000, 50);
      assert.deepEqual(notice.payload, {
        room_id: roomId, replay_id: replayId, session_id: null, duration_ms: 60_000, at: notice.payload.at, anchor_name: anchor.username, room_title: 'Notify show',
      });
    });

    it('an anchor going live again and again tells the followers once (no flood of live_started), again after the window', async () => {
      const control = kit.nodes[0]!.control;
      const { anchor, roomId, streamKey } = await anchorRoom();
      const fan = await kit.user();
      await request(control.app).post(`/api/v1/rooms/${roomId}/follow`).set(fan.auth).expect(200);
      const liveNotices = async () => (await request(control.app).get('/api/v1/notifications?limit=100').set(fan.auth).expect(200)).body.notifications
        .filter((n: { kind: string }) => n.kind === 'live_started');
      const sessions: string[] = [];
      for (let i = 0; i < 4; i++) {
        const sessionId = await goLive(anchor, roomId, streamKey);
        sessions.push(sessionId);
        if (i === 0) await waitFor('the first go-live announced', async () => ((await liveNotices()).length === 1) || undefined, 10_000, 50);
        await control.liveSessions.endSession(sessionId, CloseMethod.anchor, 'restart');
      }
      // Every one of the four session.live events handled (their processed markers), then the fan-out worker's turn.
      await waitFor('the four go-lives handled', async () => {
        const [row] = await kit.ports.db.sequelize.query<{ n: number }>(`SELECT COUNT(*) AS n FROM event_processed WHERE event_id IN (${sessions.map(() => '?').join(', ')})`,
          { replacements: sessions.map((id) => eventIds.sessionLive(id)), type: 'SELECT' as never });
        return Number(row!.n) === 4 || undefined;
      }, 10_000, 50);
      await new Promise((r) => setTimeout(r, 500));
      const told = await liveNotices();
      assert.equal(told.length, 1, 'four shows started within a minute: one live_started');
      assert.equal(told[0].payload.session_id, sessions[0]);
      // Long after (the earlier shows started more than the window ago), going live is news again.
      await kit.ports.db.sequelize.query('UPDATE live_streams SET start_at = ? WHERE anchor_id = ?', { replacements: [new Date(Date.now() - LIVE_NOTICE_WINDOW_MS - 60_000), anchor.id] });
      const later = await goLive(anchor, roomId, streamKey);
      await waitFor('the later go-live announced', async () => ((await liveNotices()).length === 2) || undefined, 10_000, 50);
      assert.equal((await liveNotices())[0].payload.session_id, later);
    });

    it('marks read one by one or all, filters unread, answers another user\'s notification as a missing one, and tells the sockets', async () => {
      const [a, b] = kit.nodes;
      const { anchor, roomId, streamKey } = await anchorRoom();
      const fan = await kit.user();
      const stranger = await kit.user();
      await request(a!.control.app).post(`/api/v1/rooms/${roomId}/follow`).set(fan.auth).expect(200);
      const sock = await ChatClient.connect(`${b!.ws}/ws/notification/${fan.id}?ticket=${await ticket(fan)}`);
      await sock.next((m) => m.type === 'unread' && m.count === 0);
      await goLive(anchor, roomId, streamKey);
      // A second notification of the fan: an audit warning style row written directly, pushed by the audit path in production.
      await sock.next((m) => m.type === 'notification');
      await kit.ports.db.sequelize.query("INSERT INTO notifications (user_id, kind, payload, dedupe_key, created_at) VALUES (?, 'system', '{}', ?, ?)", { replacements: [fan.id, `t:${fan.id}`, Date.now()] });
      await b!.control.notifications.push.byDedupeKey(`t:${fan.id}`, [fan.id]);
      await sock.next((m) => m.type === 'unread' && m.count === 2, 'unread 2');

      const http = request(a!.control.app);
      let list = (await http.get('/api/v1/notifications?limit=1').set(fan.auth).expect(200)).body;
      assert.equal(list.notifications.length, 1);
      assert.equal(list.unread_count, 2);
      assert.ok(list.next_before);
      const older = (await http.get(`/api/v1/notifications?limit=1&before=${list.next_before}`).set(fan.auth).expect(200)).body;
      assert.equal(older.notifications[0].kind, 'live_started');
      const id = older.notifications[0].id as string;

      // Another user's notification answers exactly as a missing one (no probing of sequential ids).
      const foreign = await http.post(`/api/v1/notifications/${id}/read`).set(stranger.auth);
      const missing = await http.post('/api/v1/notifications/99999999999/read').set(stranger.auth);
      assert.equal(foreign.status, 404);
      assert.deepEqual(foreign.body, missing.body);
      assert.equal(missing.body.error.code, 'notification_not_found');
      assert.equal((await http.post('/api/v1/notifications/abc/read').set(fan.auth)).status, 400);
      assert.equal((await http.post(`/api/v1/notifications/${id}/read`)).status, 401);
      assert.equal((await http.get('/api/v1/notifications?unread=maybe').set(fan.auth)).status, 400);
      assert.equal((await http.get('/api/v1/notifications').set(stranger.auth).expect(200)).body.notifications.length, 0);

      const read = (await http.post(`/api/v1/notifications/${id}/read`).set(fan.auth).expect(200)).body;
      assert.equal(read.unread_count, 1);
      assert.equal(read.notification.id, id);
      assert.ok(read.notification.read_at);
      await sock.next((m) => m.type === 'unread' && m.count === 1, 'unread 1 after the read');
      // Reading again keeps the first read time.
      assert.equal((await http.post(`/api/v1/notifications/${id}/read`).set(fan.auth).expect(200)).body.notification.read_at, read.notification.read_at);
      list = (await http.get('/api/v1/notifications?unread=true').set(fan.auth).expect(200)).body;
      assert.deepEqual(list.notifications.map((n: any) => n.kind), ['system']);
      const all = (await http.post('/api/v1/notifications/read-all').set(fan.auth).expect(200)).body;
      assert.deepEqual(all, { marked: 1, unread_count: 0 });
      await sock.next((m) => m.type === 'unread' && m.count === 0 && sock.messages.filter((x) => x.type === 'unread').length > 3, 'unread 0 after read-all');
      assert.equal((await http.get('/api/v1/notifications?unread=1').set(fan.auth).expect(200)).body.notifications.length, 0);
      sock.close();
    });
  });
}
