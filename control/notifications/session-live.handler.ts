import type { EventRoute } from '../../core/events/event-route.js';
import { enqueueFollowerFanout } from './notification-fanout.js';

/**
 * session.live: a `live_started` notification for every follower of the anchor. The handler only
 * enqueues the fan-out (one notification_fanouts row, committed with the event's processed marker;
 * dedupe_key live:{session} keeps a replay from announcing twice) and kicks the worker
 * (notification-fanout.ts), which writes the followers' rows in chunks: an anchor with 100,000
 * followers does not hold the event consumer. It listens to the session going live, not to any
 * media edge, so followers are told the same way whatever edge the stream came through.
 */
export function sessionLiveHandler(deps: { fanout?: { kick(): void } } = {}): EventRoute<'session.live'> {
  return async (ctx) => {
    const { event } = ctx;
    await ctx.commit((tx) => enqueueFollowerFanout(tx, event.anchorId, 'live_started', `live:${event.sessionId}`, {
      room_id: event.roomId, session_id: event.sessionId, anchor_id: event.anchorId, at: event.at,
    }));
    deps.fanout?.kick();
  };
}
