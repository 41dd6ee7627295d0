import type { EventRoute } from '../../core/events/event-route.js';
import type { DomainEvents } from '../../core/events/domain-events.js';
import type { StreamStats } from '../../core/media/media-contract.js';
import { eventIds } from '../../core/events/event-route.js';
import type { Logger } from '../../core/logging/logger.js';
import type { MediaControl, PublishEnded, PublishStarted } from '../../core/media/media-contract.js';
import type { LiveSession } from './live-session.js';

export interface StreamEventDeps {
  rooms: { findById(id: string): Promise<{ id: string; ownerId: string } | null> };
  moderation: { isPublishBanned(userId: string): Promise<boolean> };
  sessions: {
    markLive(ev: PublishStarted): Promise<LiveSession | null>;
    publisherGone(ev: PublishEnded): Promise<void>;
  };
  media: Pick<MediaControl, 'kickPublisher'>;
  log: Logger;
}

/**
 * stream.published, whatever edge saw it (engine, media HTTP callback, SRS/nginx-rtmp hook, vendor
 * push): the only route that turns a session live. A banned anchor's stream is kicked and nothing
 * else happens; otherwise LiveSessionService.markLive (database, set:live:online,
 * hash:anchor:status), then `session.live` is published for the subscribers of a show's start
 * (followers' notifications). Its event id is the session's, so a reconnect or a retry re-publishes
 * the same fact and the subscribers' idempotency absorbs it. A publish handled after its own
 * unpublish (events reordered) is stale and only recorded.
 */
export function streamPublishedHandler(deps: StreamEventDeps): EventRoute<'stream.published'> {
  return async (ctx) => {
    const { event } = ctx;
    if (await ctx.isProcessed(eventIds.unpublished(event.publisherId))) {
      deps.log.info({ eventId: event.eventId }, 'publish after its unpublish: stale, ignored');
      return;
    }
    const room = await deps.rooms.findById(event.roomId);
    if (room && (await deps.moderation.isPublishBanned(room.ownerId))) {
      deps.log.warn({ roomId: room.id, anchorId: room.ownerId }, 'publish from a publish-banned anchor: kicked');
      await deps.media.kickPublisher(event.roomId);
      return;
    }
    const session = await deps.sessions.markLive({
      streamName: event.roomId, app: event.app, publisherId: event.publisherId, sessionId: event.sessionId, clientIp: event.clientIp, at: event.at,
      video: event.video, audio: event.audio,
    });
    if (!session || session.status !== 'live') return;
    await ctx.publish('session.live', {
      eventId: eventIds.sessionLive(session.id), at: session.startAt?.getTime() ?? event.at, sessionId: session.id, roomId: session.roomId, anchorId: session.anchorId,
    });
  };
}

/**
 * stream.unpublished: hands the publisher's end to LiveSessionService.publisherGone, which keeps the
 * session through the reconnect grace and then ends it (close_method 3). The publisherId pairs it
 * with its publish: the end of an older publish does not end a newer one.
 */
export function streamUnpublishedHandler(deps: StreamEventDeps): EventRoute<'stream.unpublished'> {
  return async ({ event }) => {
    await deps.sessions.publisherGone({
      streamName: event.roomId, app: 'live', publisherId: event.publisherId, sessionId: event.sessionId, at: event.at,
      reason: event.reason === 'vendor' || event.reason === 'no-media' ? 'closed' : event.reason, bytesIn: event.bytesIn, durationMs: event.durationMs,
    });
  };
}

/** stream.heartbeat (not durable): the stream is alive; refreshes the session's TTL keys, online count and peak. */
export function streamHeartbeatHandler(sessions: {
  heartbeat(stats: Pick<StreamStats, 'streamName' | 'sessionId' | 'at'> & { viewers?: Record<string, number> }): Promise<void>;
}): (event: DomainEvents['stream.heartbeat']) => Promise<void> {
  return (event) => sessions.heartbeat({ streamName: event.roomId, sessionId: event.sessionId, at: event.at, viewers: event.viewers });
}
