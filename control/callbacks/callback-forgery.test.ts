/**
 * Issue 9, point 6: one captured Tencent-style signature (MD5(key + t), no body covered, t accepted a
 * day ahead) let anyone ban any anchor for good. Now: t only inside config.callbacks.window, the
 * receiver can be limited to source networks (X-Forwarded-For believed only from a trusted proxy),
 * a body HMAC is offered, and a severe verdict whose body no signature covers pauses the stream and
 * queues the ban for an operator (GET/POST /admin/moderation/pending-bans...).
 * Every request goes over a real socket to control's request listener (fast path, then express).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cssSign } from '../../core/callbacks/css-signature.js';
import { signCallbackBody } from '../../core/callbacks/body-signature.js';
import { testAdapterSets } from '../../core/testing/test-ports.js';
import { waitFor } from '../../core/testing/wait-for.js';
import { makeKit, type Kit } from '../testing/control-kit.js';

const KEY = 'forgery-test-callback-key';
const nowS = () => Math.floor(Date.now() / 1000);

/** POSTs a CSS callback: the vendor's MD5 signature (t = now + 10 min unless given), optionally onair's body HMAC. */
async function post(base: string, body: Record<string, unknown>, o: { t?: number; hmac?: boolean; headers?: Record<string, string>; raw?: string } = {}) {
  const t = o.t ?? nowS() + 600;
  const text = o.raw ?? JSON.stringify({ ...body, t, sign: cssSign(KEY, t) });
  const res = await fetch(`${base}/api/v1/callback`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...(o.hmac ? signCallbackBody(KEY, text) : {}), ...o.headers }, body: text,
  });
  return { status: res.status, body: await res.json() as { code?: number; error?: { code: string; message: string } } };
}

const json = async (res: Response) => ({ status: res.status, body: await res.json() as any });

for (const set of testAdapterSets()) {
  describe(`forged callbacks on ${set.name}`, () => {
    let kit: Kit;
    let base: string;
    let operator: { auth: { Authorization: string } };
    before(async () => {
      kit = await makeKit(set, { callbacks: { key: KEY }, live: { auditPause: 60_000 } });
      base = await kit.listen();
      operator = await kit.operator();
    });
    after(async () => { await kit.close(); });

    const api = (path: string, init: { method?: string; auth?: { Authorization: string }; body?: unknown } = {}) => fetch(`${base}/api/v1${path}`, {
      method: init.method ?? 'GET',
      headers: { ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...init.auth },
      body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
    }).then(json);

    /** An anchor whose room is live (publish authorized and started, as the engine reports it). */
    async function liveAnchor() {
      const a = await kit.anchorWithRoom();
      const decision = await kit.control.hooks.authorizePublish({ app: 'live', streamKey: a.streamKey, query: {}, clientIp: '10.0.0.1' });
      assert.equal(decision.allow, true);
      await kit.control.liveSessions.markLive({ streamName: a.roomId, app: 'live', publisherId: `p${a.roomId}`, clientIp: '10.0.0.1', at: Date.now() });
      return a;
    }
    const severeAudit = (roomId: string) => ({ event_type: 315, stream_id: roomId, HitFlag: 1, Score: 97, label: 'Porn', asr_text: `forged ${roomId}` });
    const auditAction = async (roomId: string) => waitFor(`audit log of room ${roomId}`, async () => {
      const [row] = await kit.ports.db.sequelize.query<{ action: string }>('SELECT action FROM live_audit_logs WHERE room_id = ?', { replacements: [roomId], type: 'SELECT' as never }) as Array<{ action: string }>;
      return row?.action;
    }, 10_000);

    it('refuses a signature whose t lies beyond the window (a captured one was good for 24 h)', async () => {
      const a = await kit.anchorWithRoom();
      const cb = { event_type: 321, stream_id: a.roomId, sequence: '1' };
      const dayAhead = await post(base, cb, { t: nowS() + 23 * 3600 });
      assert.equal(dayAhead.status, 401);
      assert.equal(dayAhead.body.error?.message, 'expiry_too_far');
      assert.equal((await post(base, cb, { t: nowS() + 30 * 60 })).status, 401, 'half an hour ahead is beyond the 11 min default');
      assert.equal((await post(base, cb, { t: nowS() + 600 })).status, 200, 'the vendor\'s own 10 minutes pass');
    });

    it('a severe verdict under the vendor signature alone pauses the stream and queues the ban; only an operator makes it permanent', async () => {
      const victim = await liveAnchor();
      assert.equal((await post(base, severeAudit(victim.roomId))).status, 200);
      assert.equal(await auditAction(victim.roomId), 'paused_pending_ban');
      // Paused, not banned for good: a timed ban, the show ended, the key still valid.
      const pause = await kit.control.moderation.activeBan(victim.id);
      assert.ok(pause?.until, 'a timed pause, not a permanent ban');
      assert.equal(await kit.control.sessionStore.findActiveByRoom(victim.roomId), null, 'the show was ended');
      assert.ok(kit.media.kickedPublishers.includes(victim.roomId), 'the publisher was kicked');
      assert.equal((await api(`/rooms/${victim.roomId}/stream-key`, { auth: victim.auth })).body.revoked, false, 'the key is not revoked');

      const listed = await api('/admin/moderation/pending-bans', { auth: operator.auth });
      assert.equal(listed.status, 200);
      const pending = listed.body.pending_bans.find((p: { room_id: string }) => p.room_id === victim.roomId);
      assert.ok(pending, 'the ban waits for an operator');
      assert.equal(pending.user_id, victim.id);
      assert.equal(pending.status, 'pending');
      assert.match(pending.reason, /Porn/);
      assert.equal((await api('/admin/moderation/pending-bans', { auth: victim.auth })).status, 403, 'anchors cannot see the queue');
      assert.equal((await api('/admin/moderation/pending-bans?status=nope', { auth: operator.auth })).status, 400);
      assert.equal((await api('/admin/moderation/pending-bans/999999/confirm', { method: 'POST', auth: operator.auth })).status, 404);
      // The vendor re-sends the same notification: still one pending ban.
      assert.equal((await post(base, severeAudit(victim.roomId))).status, 200);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal((await api('/admin/moderation/pending-bans', { auth: operator.auth })).body.pending_bans
        .filter((p: { room_id: string }) => p.room_id === victim.roomId).length, 1);

      const confirmed = await api(`/admin/moderation/pending-bans/${pending.id}/confirm`, { method: 'POST', auth: operator.auth });
      assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body));
      assert.equal(confirmed.body.status, 'confirmed');
      const ban = await kit.control.moderation.activeBan(victim.id);
      assert.equal(ban?.until, null, 'confirmed: permanent');
      assert.equal((await api(`/rooms/${victim.roomId}/stream-key`, { auth: victim.auth })).body.revoked, true, 'confirmed: key revoked');
      assert.equal((await api(`/admin/moderation/pending-bans/${pending.id}/confirm`, { method: 'POST', auth: operator.auth })).status, 409);
      assert.equal((await api(`/admin/moderation/pending-bans/${pending.id}/dismiss`, { method: 'POST', auth: operator.auth })).status, 409);
    });

    it('an operator dismisses a forged verdict: the pause is lifted and the anchor publishes again', async () => {
      const victim = await liveAnchor();
      assert.equal((await post(base, severeAudit(victim.roomId))).status, 200);
      assert.equal(await auditAction(victim.roomId), 'paused_pending_ban');
      const refused = await kit.control.hooks.authorizePublish({ app: 'live', streamKey: victim.streamKey, query: {}, clientIp: '10.0.0.1' });
      assert.deepEqual(refused, { allow: false, reason: 'publish_banned' }, 'paused meanwhile');
      const { body } = await api('/admin/moderation/pending-bans', { auth: operator.auth });
      const pending = body.pending_bans.find((p: { room_id: string }) => p.room_id === victim.roomId);
      const dismissed = await api(`/admin/moderation/pending-bans/${pending.id}/dismiss`, { method: 'POST', auth: operator.auth });
      assert.equal(dismissed.status, 200);
      assert.equal(dismissed.body.status, 'dismissed');
      assert.equal(dismissed.body.pause_lifted, true);
      assert.equal(await kit.control.moderation.isPublishBanned(victim.id), false);
      const again = await kit.control.hooks.authorizePublish({ app: 'live', streamKey: victim.streamKey, query: {}, clientIp: '10.0.0.1' });
      assert.equal(again.allow, true);
      const all = await api('/admin/moderation/pending-bans?status=all', { auth: operator.auth });
      assert.ok(all.body.pending_bans.some((p: { id: string; status: string }) => p.id === pending.id && p.status === 'dismissed'));
    });

    it('the body HMAC: covers every byte, may replace t/sign, and makes a severe verdict a permanent ban', async () => {
      const a = await liveAnchor();
      const text = JSON.stringify({ event_type: 321, stream_id: a.roomId, sequence: '7' });
      const headers = signCallbackBody(KEY, text);
      const tampered = await post(base, {}, { raw: text.replace('"7"', '"8"'), headers });
      assert.equal(tampered.status, 401);
      assert.equal(tampered.body.error?.message, 'bad_signature');
      assert.equal((await post(base, {}, { raw: text, headers })).status, 200, 'HMAC alone, no t/sign');
      const stale = signCallbackBody(KEY, text, Date.now() - 20 * 60_000);
      assert.equal((await post(base, {}, { raw: text, headers: stale })).status, 401, 'an old HMAC timestamp is refused');
      assert.equal((await post(base, severeAudit(a.roomId), { hmac: true })).status, 200);
      assert.equal(await auditAction(a.roomId), 'banned');
      assert.equal((await kit.control.moderation.activeBan(a.id))?.until, null);
    });
  });

  describe(`callback source allowlist on ${set.name}`, () => {
    let kit: Kit;
    let v4: string;
    let v6: string;
    let plain: Kit;
    let plainBase: string;
    before(async () => {
      // The edge proxy is 127.0.0.1; clients may come from ::1 directly, or 10.1/16 and fd00:1::/32 through the proxy.
      kit = await makeKit(set, { callbacks: { key: KEY, allow: '::1, 10.1.0.0/16 fd00:1::/32' }, http: { trustedProxies: '127.0.0.1' } });
      v4 = await kit.listen('127.0.0.1');
      v6 = await kit.listen('::1');
      plain = await makeKit(set, { callbacks: { key: KEY, allow: '10.1.0.0/16' } });
      plainBase = await plain.listen();
    });
    after(async () => {
      await kit.close();
      await plain.close();
    });

    const cb = { event_type: 321, stream_id: 'allowlist', sequence: '1' };
    const xff = (v: string) => ({ headers: { 'x-forwarded-for': v } });

    it('accepts allowed networks only, IPv4 and IPv6, and believes X-Forwarded-For only from the trusted proxy', async () => {
      assert.equal((await post(v6, cb)).status, 200, '::1 is allowed');
      assert.equal((await post(v6, cb, xff('192.0.2.7'))).status, 200, '::1 is not a proxy: its X-Forwarded-For is ignored');
      const direct = await post(v4, cb);
      assert.equal(direct.status, 403, 'the proxy itself is not an allowed source');
      assert.equal(direct.body.error?.code, 'source_not_allowed');
      assert.equal((await post(v4, cb, xff('10.1.2.3'))).status, 200, 'a client behind the proxy');
      assert.equal((await post(v4, cb, xff('fd00:1::5'))).status, 200, 'an IPv6 client behind the proxy');
      assert.equal((await post(v4, cb, xff('10.1.2.3, 192.0.2.7'))).status, 403, 'the nearest untrusted hop decides, not a client-written entry');
      assert.equal((await post(v4, cb, xff('10.1.2.3, 127.0.0.1'))).status, 200, 'trusted hops are skipped');
      assert.equal((await post(v4, cb, xff('not-an-ip'))).status, 403);
      assert.equal((await post(plainBase, cb, xff('10.1.2.3'))).status, 403, 'without a trusted proxy a forged X-Forwarded-For changes nothing');
      const metrics = await (await fetch(`${v4}/metrics`)).text();
      assert.match(metrics, /onair_callbacks_refused_total\{source="css",code="source_not_allowed"\} 3\b/);
    });
  });
}
