import { dbTimeMs } from '../../core/database/db-time.js';
import type { Tx } from '../../core/database/tx.js';
import type { EventRoute } from '../../core/events/event-route.js';
import { enqueueFollowerFanout } from './notification-fanout.js';

/**
 * An anchor's followers hear of their going live once per burst of shows: a show that went live
 * within this long after another show of the same anchor went live announces nothing. Without it
 * an anchor who stopped and started again (a flapping encoder, or a script doing it on purpose) put
 * one more `live_started` into every follower's list each time, as fast as shows could start.
 * The default of ONAIR_NOTIFY_LIVE_QUIET (0 turns it off).
 */
export const LIVE_NOTICE_WINDOW_MS = 10 * 60_000;

/**
 * True when another show of the anchor went live in the LIVE_NOTICE_WINDOW_MS before `startedAt`
 * (the show `sessionId`'s start): that show's followers were told already, this one tells nothing.
 */
export async function followsAnnouncedShow(tx: Tx, anchorId: string, sessionId: string, startedAt: number, windowMs = LIVE_NOTICE_WINDOW_MS): Promise<boolean> {
  if (windowMs <= 0) return false;
  const recent = await tx.select<{ start_at: Date | string | number | null }>(
    'SELECT start_at FROM live_streams WHERE anchor_id = ? AND id <> ? AND start_at IS NOT NULL ORDER BY id DESC LIMIT 20', [anchorId, sessionId],
  );
  return recent.some((r) => { const t = dbTimeMs(r.start_at); return t >= startedAt - windowMs && t < startedAt; });
}

/** The start of show `sessionId` and its anchor (null: unknown, or it never went live). */
export async function showStart(tx: Tx, sessionId: string): Promise<{ anchorId: string; startedAt: number } | null> {
  const [row] = await tx.select<{ anchor_id: string | number; start_at: Date | string | number | null }>('SELECT anchor_id, start_at FROM live_streams WHERE id = ?', [sessionId]);
  const startedAt = row ? dbTimeMs(row.start_at) : Number.NaN;
  return row && Number.isFinite(startedAt) ? { anchorId: String(row.anchor_id), startedAt } : null;
}

/**
 * The anchor's username and the room's title as they are now, for a notice a client shows as
 * "{anchor} is live now: {title}" without looking either up (null: the user or the room is gone).
 */
export async function noticeNames(tx: Tx, anchorId: string | null, roomId: string): Promise<{ anchor_name: string | null; room_title: string | null }> {
  const [row] = await tx.select<{ anchor_name: string | null; room_title: string | null }>(
    'SELECT (SELECT username FROM users WHERE id = ?) AS anchor_name, (SELECT title FROM rooms WHERE id = ?) AS room_title',
    [anchorId ?? '0', roomId],
  );
  return { anchor_name: row?.anchor_name ?? null, room_title: row?.room_title ?? null };
}

/**
 * session.live: a `live_started` notification for every follower of the anchor, unless another
 * show of the anchor went live in the LIVE_NOTICE_WINDOW_MS before this one (it announced already;
 * decided from the shows' start times, so a retry or a late delivery decides the same). The
 * handler only enqueues the fan-out (one notification_fanouts row, committed with the event's
 * processed marker; dedupe_key live:{session} keeps a replay or another edge's copy from
 * announcing twice) and kicks the worker (notification-fanout.ts), which writes the followers'
 * rows in chunks: an anchor with 100,000 followers does not hold the event consumer. It listens to
 * the session going live, not to any media edge, so followers are told the same way whatever edge
 * the stream came through. The payload names the anchor (`anchor_name`, the username) and the room's
 * title when the show went live (`room_title`), next to the ids.
 */
export function sessionLiveHandler(deps: { fanout?: { kick(): void }; liveQuietMs?: number } = {}): EventRoute<'session.live'> {
  return async (ctx) => {
    const { event } = ctx;
    await ctx.commit(async (tx) => {
      if (await followsAnnouncedShow(tx, event.anchorId, event.sessionId, event.at, deps.liveQuietMs)) return;
      await enqueueFollowerFanout(tx, event.anchorId, 'live_started', `live:${event.sessionId}`, {
        room_id: event.roomId, session_id: event.sessionId, anchor_id: event.anchorId, at: event.at,
        ...(await noticeNames(tx, event.anchorId, event.roomId)),
      });
    });
    deps.fanout?.kick();
  };
}
