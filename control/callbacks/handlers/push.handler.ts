import { CallbackEventType } from '../../../core/events/bus-events.js';
import type { PublishStarted } from '../../../core/media/media-contract.js';
import type { CallbackHandler } from '../callback-consumer.js';
import type { CallbackHandlerDeps } from './handler-deps.js';
import { insertFollowerNotifications } from './notifications.js';

/**
 * push (event_type 1): a banned anchor's stream is kicked and nothing else happens; otherwise the
 * session goes live with its start time (LiveSessionService.markLive: database, set:live:online,
 * hash:anchor:status), and the anchor's followers get a notification, committed with the marker.
 * A push handled after its own cut-off (events reordered) is stale and only recorded.
 */
export function pushHandler(deps: CallbackHandlerDeps): CallbackHandler {
  return async (ctx) => {
    const { event } = ctx;
    const cutOffIdentity = event.identity.replace(/^(css|media|media-http):1:/, `$1:${CallbackEventType.cutOff}:`);
    if (cutOffIdentity !== event.identity && (await ctx.isProcessed(cutOffIdentity))) {
      deps.log.info({ identity: event.identity }, 'push after its cut-off: stale, ignored');
      return;
    }
    const room = await deps.rooms.findById(event.streamName);
    if (room && (await deps.moderation.isPublishBanned(room.ownerId))) {
      deps.log.warn({ roomId: room.id, anchorId: room.ownerId }, 'push from a publish-banned anchor: kicked');
      await deps.media.kickPublisher(event.streamName);
      return;
    }
    const session = await deps.sessions.markLive(toPublishStarted(event.body, event.streamName, event.sequence, event.at, event.source));
    if (!session || session.status !== 'live') return;
    await ctx.commit((tx) => insertFollowerNotifications(tx, session.anchorId, 'live_started', `live:${session.id}`, {
      room_id: session.roomId, session_id: session.id, anchor_id: session.anchorId, at: event.at,
    }));
  };
}

/** The engine's PublishStarted as is; a CSS push becomes one (publisherId `css:{sequence}` pairs it with its cut-off). */
export function toPublishStarted(body: Record<string, unknown>, streamName: string, sequence: string | null, at: number, source: string): PublishStarted {
  if (source !== 'css') return body as unknown as PublishStarted;
  return {
    streamName,
    app: String(body.appname ?? 'live'),
    publisherId: `css:${sequence ?? ''}`,
    clientIp: String(body.user_ip ?? ''),
    at,
  };
}
