import type { DomainEvents } from '../../core/events/domain-events.js';
import type { AudienceService } from './audience.service.js';

/**
 * viewer.joined / viewer.left, from whichever edge saw the viewing (the engine in-process, media's
 * signed callbacks in a split deployment, an nginx-rtmp/SRS play hook): the live_audience rows the
 * settlement counts viewers from. Joins of one turn are written with one multi-row INSERT. Not
 * durable: the edge delivers at least once (media's HTTP sink retries until answered; the shutdown
 * waits for the writes of in-process ones, AudienceService.idle).
 */
export function viewerJoinedHandler(audience: Pick<AudienceService, 'viewerJoined'>): (event: DomainEvents['viewer.joined']) => Promise<void> {
  return async (event) => {
    await audience.viewerJoined({ streamName: event.roomId, viewerId: event.viewerId, at: event.at }, event.userId);
  };
}

export function viewerLeftHandler(audience: Pick<AudienceService, 'viewerLeft'>): (event: DomainEvents['viewer.left']) => Promise<void> {
  return async (event) => {
    await audience.viewerLeft({ viewerId: event.viewerId, at: event.at });
  };
}
