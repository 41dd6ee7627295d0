import type { CallbackHandler } from '../callback-consumer.js';
import type { CallbackHandlerDeps } from './handler-deps.js';
import { auditVerdict } from './audit-severity.js';
import { insertNotification } from './notifications.js';

/**
 * audit (315 audio / 317 image): a live_audit_logs row with the derived severity and the action:
 *   light  -> an audit_warning notification to the anchor
 *   medium -> live show ended (kick) and publishing banned for config.live.auditPause
 *   severe -> permanent publishing ban, the room's stream key revoked, live show ended; but when no
 *             signature covers the event's body (the vendor's MD5(key + t) alone, which one captured
 *             request lets anyone reuse), the stream is only paused as for medium and the permanent
 *             ban is queued for an operator to confirm (action 'paused_pending_ban')
 * Sanctions run before the commit: if one fails, no marker is written and the retry redoes them
 * (a second identical ban changes nothing a viewer can see; the queued ban is one per identity).
 */
export function auditHandler(deps: CallbackHandlerDeps): CallbackHandler {
  return async (ctx) => {
    const { event } = ctx;
    const verdict = auditVerdict(event.eventType as 315 | 317, event.body);
    const room = await deps.rooms.findById(event.streamName);
    const anchorId = room?.ownerId ?? null;
    const session = room ? await deps.sessionStore.findActiveByRoom(room.id) : null;
    const now = deps.now?.() ?? Date.now();
    const reason = `audit ${verdict.kind} ${verdict.label ?? 'unknown'} (${verdict.suggestion ?? '-'}, score ${verdict.score ?? '-'})`;
    let action = 'none';
    if (anchorId && room) {
      if (verdict.severity === 'light') action = 'warning';
      const bodyVerified = event.bodyVerified ?? event.source !== 'css';
      const pause = async () => {
        const ban = await deps.moderation.banPublishing(anchorId, new Date(now + deps.auditPauseMs), reason);
        await deps.sessions.endAllOfAnchor(anchorId, 2, reason);
        await deps.media.kickPublisher(room.id);
        return ban;
      };
      if (verdict.severity === 'medium') {
        await pause();
        action = 'paused';
      }
      if (verdict.severity === 'severe' && !bodyVerified) {
        const ban = await pause();
        await deps.pendingBans.queue({
          identity: event.identity, userId: anchorId, roomId: room.id, sessionId: session?.id ?? null, reason,
          evidenceUrl: verdict.evidenceUrl, pauseBanId: ban.id,
        });
        action = 'paused_pending_ban';
      }
      if (verdict.severity === 'severe' && bodyVerified) {
        await deps.moderation.banPublishing(anchorId, null, reason);
        await deps.roomService.revokeStreamKey(room.id);
        await deps.sessions.endAllOfAnchor(anchorId, 2, reason);
        await deps.media.kickPublisher(room.id);
        action = 'banned';
      }
      deps.log.warn({ roomId: room.id, anchorId, severity: verdict.severity, action }, 'audit result applied');
    } else {
      deps.log.warn({ streamName: event.streamName, severity: verdict.severity }, 'audit result for an unknown room: logged only');
    }
    await ctx.commit(async (tx) => {
      await tx.run(
        `INSERT INTO live_audit_logs (identity, room_id, anchor_id, session_id, stream_name, kind, suggestion, label, score, severity, action, evidence_url, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [event.identity, room?.id ?? null, anchorId, session?.id ?? null, event.streamName, verdict.kind, verdict.suggestion?.slice(0, 16) ?? null,
          verdict.label?.slice(0, 64) ?? null, verdict.score === null ? null : Math.round(verdict.score), verdict.severity, action, verdict.evidenceUrl?.slice(0, 1024) ?? null, now],
      );
      if (action === 'warning' && anchorId) {
        await insertNotification(tx, anchorId, 'audit_warning', `audit:${event.identity}`, {
          room_id: room?.id, label: verdict.label, suggestion: verdict.suggestion, score: verdict.score, at: event.at,
        });
      }
    });
  };
}
