import type { Logger } from '../../core/logging/logger.js';
import type { MediaEventSource, MediaEvents } from '../../core/media/media-contract.js';
import type { LiveSessionService } from './live-session.service.js';
import type { AudienceService } from '../audience/audience.service.js';

export type { MediaEventSource };

/**
 * The in-process route from media events to the live lifecycle: publish.started -> markLive,
 * publish.ended -> publisherGone, stream.stats -> heartbeat, and (when given) play.started/ended ->
 * the audience log. Deliberately thin: the durable event bus replaces this file's wiring without
 * touching the services. Returns the detach function.
 */
export function attachMediaEvents(
  emitter: MediaEventSource,
  live: Pick<LiveSessionService, 'markLive' | 'publisherGone' | 'heartbeat'>,
  log: Logger,
  audience?: Pick<AudienceService, 'viewerJoined' | 'viewerLeft'>,
): () => void {
  const guard = (what: string) => (err: unknown) => log.error({ err, event: what }, 'media event handler failed');
  const started = (e: MediaEvents['publish.started']) => void live.markLive(e).catch(guard('publish.started'));
  const ended = (e: MediaEvents['publish.ended']) => void live.publisherGone(e).catch(guard('publish.ended'));
  const stats = (e: MediaEvents['stream.stats']) => void live.heartbeat(e).catch(guard('stream.stats'));
  emitter.on('publish.started', started);
  emitter.on('publish.ended', ended);
  emitter.on('stream.stats', stats);
  const joined = (e: MediaEvents['play.started']) => void audience?.viewerJoined(e).catch(guard('play.started'));
  const left = (e: MediaEvents['play.ended']) => void audience?.viewerLeft(e).catch(guard('play.ended'));
  if (audience) {
    emitter.on('play.started', joined);
    emitter.on('play.ended', left);
  }
  return () => {
    emitter.off('publish.started', started);
    emitter.off('publish.ended', ended);
    emitter.off('stream.stats', stats);
    emitter.off('play.started', joined);
    emitter.off('play.ended', left);
  };
}
