import type { EventRoute } from '../../core/events/event-route.js';
import type { AudienceService } from './audience.service.js';

/**
 * viewer.joined / viewer.left, from whichever edge saw the viewing (the engine in-process, media's
 * signed callbacks in a split deployment, an nginx-rtmp/SRS play hook): the live_audience rows the
 * settlement counts viewers from. Joins of one turn are written with one multi-row INSERT.
 */
export function viewerJoinedHandler(audience: Pick<AudienceService, 'viewerJoined'>): EventRoute<'viewer.joined'> {
  return async ({ event }) => {
    await audience.viewerJoined({ streamName: event.roomId, viewerId: event.viewerId, at: event.at }, event.userId);
  };
}

export function viewerLeftHandler(audience: Pick<AudienceService, 'viewerLeft'>): EventRoute<'viewer.left'> {
  return async ({ event }) => {
    await audience.viewerLeft({ viewerId: event.viewerId, at: event.at });
  };
}
