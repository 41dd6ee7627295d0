import type { EventRoute } from '../../core/events/event-route.js';
import { insertFollowerNotifications } from './notification.store.js';

/**
 * session.live: one `live_started` notification per follower of the anchor, committed with the
 * event's processed marker (dedupe_key live:{session} keeps a replay from notifying twice). It
 * listens to the session going live, not to any media edge, so followers are told the same way
 * whether the stream came through the engine, media's callbacks, SRS/nginx-rtmp or a vendor.
 */
export function sessionLiveHandler(): EventRoute<'session.live'> {
  return async (ctx) => {
    const { event } = ctx;
    await ctx.commit((tx) => insertFollowerNotifications(tx, event.anchorId, 'live_started', `live:${event.sessionId}`, {
      room_id: event.roomId, session_id: event.sessionId, anchor_id: event.anchorId, at: event.at,
    }));
  };
}
