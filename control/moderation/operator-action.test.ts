import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testAdapterSets } from '../../core/testing/test-ports.js';
import { ChatClient, makeChatKit, type ChatKit } from '../testing/chat-kit.js';

/**
 * The console's actions on audit verdicts, viewer reports and anchors' in-room actions
 * (POST /admin/moderation/actions): warn tells the anchor (notification + chat notice), pause is
 * the moderation pause (stream_paused), dismiss does nothing to the anchor; each is logged and
 * shows in the room's moderation history.
 */
for (const set of testAdapterSets()) {
  describe(`operator moderation actions on ${set.name}`, () => {
    let kit: ChatKit;
    let op: Awaited<ReturnType<ChatKit['operator']>>;
    before(async () => {
      kit = await makeChatKit(set, { chat: { rate: 'off' } });
      op = await kit.operator();
    });
    after(async () => {
      await kit?.close();
    });
    const http = () => kit.nodes[0]!.http;
    const act = (body: object) => http().post('/api/v1/admin/moderation/actions').set(op.auth).send(body);
    /** An audit verdict as the audit handler writes it (live_audit_logs). */
    async function auditRow(roomId: string, anchorId: string): Promise<string> {
      const identity = `ev-${Date.now()}-${Math.random()}`;
      await kit.ports.db.sequelize.query(
        `INSERT INTO live_audit_logs (identity, room_id, anchor_id, session_id, stream_name, kind, suggestion, label, score, severity, action, evidence_url, created_at)
         VALUES (?, ?, ?, NULL, ?, 'image', 'review', 'porn', 70, 'light', 'warning', NULL, ?)`,
        { replacements: [identity, roomId, anchorId, roomId, Date.now()] },
      );
      const [rows] = await kit.ports.db.sequelize.query('SELECT id FROM live_audit_logs WHERE identity = ?', { replacements: [identity] });
      return String((rows as Array<{ id: number | string }>)[0]!.id);
    }

    it('warn on a viewer report: the anchor gets a notification and a notice in the room chat; the report is closed', async () => {
      const { roomId, sessionId, anchor } = await kit.liveRoom();
      const viewer = await kit.user();
      const c = await ChatClient.connect(`${kit.nodes[0]!.ws}/ws/live/${sessionId}?token=${viewer.token}`);
      await c.next((m) => m.type === 'welcome', 'welcome');
      const report = await http().post(`/api/v1/rooms/${roomId}/reports`).set(viewer.auth).send({ reason: 'rude anchor' }).expect(201);
      const warned = await act({ action: 'warn', source: 'report', source_id: String(report.body.id), reason: 'keep it civil' }).expect(201);
      assert.equal(warned.body.action, 'warn');
      assert.equal(warned.body.room_id, roomId);
      assert.equal(warned.body.user_id, anchor.id);
      const notice = await c.next((m) => m.type === 'notice' && m.code === 'moderation_warning', 'the warning in the chat');
      assert.equal(notice.reason, 'keep it civil');
      const mine = await http().get('/api/v1/notifications').set(anchor.auth).expect(200);
      const n = mine.body.notifications.find((x: { kind: string }) => x.kind === 'moderation_warning');
      assert.ok(n, 'the anchor has the warning as a notification');
      assert.equal(n.payload.reason, 'keep it civil');
      assert.equal(n.payload.room_id, roomId);
      const open = await http().get('/api/v1/admin/chat/reports?status=open').set(op.auth).expect(200);
      assert.ok(!open.body.reports.some((r: { id: string }) => String(r.id) === String(report.body.id)), 'the report is closed');
      // The show goes on: a warning is no sanction.
      assert.equal((await http().get(`/api/v1/admin/users/${anchor.id}/publish-ban`).set(op.auth).expect(200)).body.banned, false);
      c.close();
    });

    it('pause on an audit verdict: the moderation pause for the chosen minutes (stream_paused), logged in the room history', async () => {
      const { roomId, sessionId, anchor } = await kit.liveRoom();
      const viewer = await kit.user();
      const c = await ChatClient.connect(`${kit.nodes[0]!.ws}/ws/live/${sessionId}?token=${viewer.token}`);
      await c.next((m) => m.type === 'welcome', 'welcome');
      const audit = await auditRow(roomId, anchor.id);
      const before = Date.now();
      const paused = await act({ action: 'pause', source: 'audit', source_id: audit, reason: 'nudity', minutes: 30 }).expect(201);
      const until = Date.parse(paused.body.until);
      assert.ok(until >= before + 30 * 60_000 && until <= Date.now() + 30 * 60_000, `until ${paused.body.until}`);
      const notice = await c.next((m) => m.type === 'notice' && m.code === 'stream_paused', 'stream_paused');
      assert.equal(notice.until, until);
      const ban = await http().get(`/api/v1/admin/users/${anchor.id}/publish-ban`).set(op.auth).expect(200);
      assert.equal(ban.body.banned, true);
      assert.equal(ban.body.until, paused.body.until);
      const session = await kit.nodes[0]!.control.sessionStore.findById(sessionId);
      assert.equal(session?.status, 'ended');
      assert.equal(session?.closeMethod, 2);
      // Dismissing another verdict of the room does nothing to the anchor, and is logged too.
      const other = await auditRow(roomId, anchor.id);
      await act({ action: 'dismiss', source: 'audit', source_id: other, reason: 'false positive' }).expect(201);

      const log = await http().get(`/api/v1/admin/moderation/actions?room_id=${roomId}`).set(op.auth).expect(200);
      assert.deepEqual(log.body.actions.map((a: { action: string; source_id: string }) => [a.action, a.source_id]), [['dismiss', other], ['pause', audit]]);
      assert.equal(log.body.actions[1].operator_id, op.id);
      const bySource = await http().get(`/api/v1/admin/moderation/actions?source=audit&source_id=${audit}`).set(op.auth).expect(200);
      assert.equal(bySource.body.total, 1);
      const detail = await http().get(`/api/v1/admin/rooms/${roomId}`).set(op.auth).expect(200);
      const kinds = detail.body.moderation.map((m: { kind: string }) => m.kind);
      for (const kind of ['pause', 'dismiss', 'publish_ban']) assert.ok(kinds.includes(kind), `history has ${kind}: ${kinds.join(',')}`);
      c.close();
    });

    it('warn and ban from an anchor\'s in-room action; refuses bad input, unknown items and non-operators', async () => {
      const { roomId, anchor } = await kit.liveRoom();
      const viewer = await kit.user();
      await http().post(`/api/v1/rooms/${roomId}/reports`).set(viewer.auth).send({ reason: 'spam' }).expect(201);
      const entries = await http().get(`/api/v1/admin/chat/moderation-log?room_id=${roomId}`).set(op.auth).expect(200);
      const entry = entries.body.entries[0];
      assert.ok(entry, 'the room has a moderation log entry');
      await act({ action: 'pause', source: 'room_log', source_id: entry.id, reason: 'x' }).expect(400);
      await act({ action: 'pause', source: 'room_log', source_id: entry.id, reason: 'x', minutes: 0 }).expect(400);
      await act({ action: 'pause', source: 'room_log', source_id: entry.id, reason: 'x', minutes: 60 * 24 * 365 }).expect(400);
      await act({ action: 'warn', source: 'room_log', source_id: entry.id, reason: 'x', minutes: 5 }).expect(400);
      // 30 days is the most: refused by the route's schema before any lookup (an unknown item is not a 404 then).
      assert.equal((await act({ action: 'pause', source: 'audit', source_id: '999999999', reason: 'x', minutes: 43_201 }).expect(400)).body.error.code, 'invalid_request');
      assert.equal((await act({ action: 'pause', source: 'audit', source_id: '999999999', reason: 'x', minutes: 43_200 }).expect(404)).body.error.code, 'audit_not_found');
      await act({ action: 'warn', source: 'room_log', source_id: entry.id, reason: '' }).expect(400);
      await act({ action: 'shout', source: 'room_log', source_id: entry.id, reason: 'x' }).expect(400);
      assert.equal((await act({ action: 'warn', source: 'audit', source_id: '999999999', reason: 'x' }).expect(404)).body.error.code, 'audit_not_found');
      await http().post('/api/v1/admin/moderation/actions').set(viewer.auth).send({ action: 'warn', source: 'room', source_id: roomId, reason: 'x' }).expect(403);
      await http().get('/api/v1/admin/moderation/actions').set(anchor.auth).expect(403);
      const banned = await act({ action: 'ban', source: 'room_log', source_id: entry.id, reason: 'repeat offender' }).expect(201);
      assert.equal(banned.body.until, null);
      const ban = await http().get(`/api/v1/admin/users/${anchor.id}/publish-ban`).set(op.auth).expect(200);
      assert.deepEqual([ban.body.banned, ban.body.until], [true, null]);
      const byRoom = await act({ action: 'warn', source: 'room', source_id: roomId, reason: 'last warning' }).expect(201);
      assert.equal(byRoom.body.user_id, anchor.id);
    });
  });
}
