import type { EventRoute } from '../../core/events/event-route.js';
import { enqueueFollowerFanout } from './notification-fanout.js';

/**
 * An anchor's followers hear of their going live once per burst of shows: a show that went live
 * within this long after another show of the same anchor went live announces nothing. Without it
 * an anchor who stopped and started again (a flapping encoder, or a script doing it on purpose) put
 * one more `live_started` into every follower's list each time, as fast as shows could start.
 */
export const LIVE_NOTICE_WINDOW_MS = 10 * 60_000;

/** A DATETIME as the drivers hand it back (a Date, or SQLite's 'YYYY-MM-DD HH:MM:SS.sss +00:00'), in epoch ms. */
const epochMs = (v: Date | string | number | null): number => {
  if (v === null) return Number.NaN;
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'number') return v;
  return Date.parse(/(?:[zZ]|[+-]\d\d:?\d\d)$/.test(v) ? v : `${v}Z`);
};

/**
 * session.live: a `live_started` notification for every follower of the anchor, unless another
 * show of the anchor went live in the LIVE_NOTICE_WINDOW_MS before this one (it announced already;
 * decided from the shows' start times, so a retry or a late delivery decides the same). The
 * handler only enqueues the fan-out (one notification_fanouts row, committed with the event's
 * processed marker; dedupe_key live:{session} keeps a replay or another edge's copy from
 * announcing twice) and kicks the worker (notification-fanout.ts), which writes the followers'
 * rows in chunks: an anchor with 100,000 followers does not hold the event consumer. It listens to
 * the session going live, not to any media edge, so followers are told the same way whatever edge
 * the stream came through.
 */
export function sessionLiveHandler(deps: { fanout?: { kick(): void } } = {}): EventRoute<'session.live'> {
  return async (ctx) => {
    const { event } = ctx;
    await ctx.commit(async (tx) => {
      const recent = await tx.select<{ start_at: Date | string | number | null }>(
        'SELECT start_at FROM live_streams WHERE anchor_id = ? AND id <> ? AND start_at IS NOT NULL ORDER BY id DESC LIMIT 20', [event.anchorId, event.sessionId],
      );
      if (recent.some((r) => { const t = epochMs(r.start_at); return t >= event.at - LIVE_NOTICE_WINDOW_MS && t < event.at; })) return;
      await enqueueFollowerFanout(tx, event.anchorId, 'live_started', `live:${event.sessionId}`, {
        room_id: event.roomId, session_id: event.sessionId, anchor_id: event.anchorId, at: event.at,
      });
    });
    deps.fanout?.kick();
  };
}
