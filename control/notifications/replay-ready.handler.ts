import type { EventRoute } from '../../core/events/event-route.js';
import { followsAnnouncedShow, noticeNames, showStart } from './session-live.handler.js';

const insertIgnore = (dialect: string) => (dialect === 'sqlite' ? 'INSERT OR IGNORE' : 'INSERT IGNORE');

/**
 * replay.ready: one `replay_ready` notification per follower of the room's anchor ("missed the show?
 * the replay is up"), committed with the event's processed marker. A show cut into segments gives
 * one replay.ready per segment; `dedupe_key replay:{replayId}` makes it one notice per replay, and a
 * re-delivered event adds nothing. The replay of a show that announced no go-live (it started within
 * LIVE_NOTICE_WINDOW_MS after another show of the anchor: a restart loop with recording on) is not
 * announced either: one short show after another made one more notice in every follower's list each.
 * The payload names the anchor (`anchor_name`) and the room's title (`room_title`) next to the ids.
 */
export function replayReadyHandler(deps: { liveQuietMs?: number } = {}): EventRoute<'replay.ready'> {
  return async (ctx) => {
    const { event } = ctx;
    await ctx.commit(async (tx) => {
      const show = event.sessionId ? await showStart(tx, event.sessionId) : null;
      if (show && (await followsAnnouncedShow(tx, show.anchorId, event.sessionId!, show.startedAt, deps.liveQuietMs))) return;
      const [owner] = show ? [] : await tx.select<{ owner_id: string | number }>('SELECT owner_id FROM rooms WHERE id = ?', [event.roomId]);
      const names = await noticeNames(tx, show?.anchorId ?? (owner ? String(owner.owner_id) : null), event.roomId);
      await tx.run(
        `${insertIgnore(tx.dialect)} INTO notifications (user_id, kind, payload, dedupe_key, created_at)
           SELECT f.user_id, 'replay_ready', ?, ?, ? FROM follows f JOIN rooms r ON r.owner_id = f.anchor_id WHERE r.id = ?`,
        [JSON.stringify({ room_id: event.roomId, replay_id: event.replayId, session_id: event.sessionId ?? null, duration_ms: event.durationMs, at: event.at, ...names }),
          `replay:${event.replayId}`, Date.now(), event.roomId],
      );
    });
  };
}
