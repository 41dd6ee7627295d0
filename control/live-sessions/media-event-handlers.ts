import type { Logger } from '../../core/logging/logger.js';
import type { MediaEventSource, MediaEvents } from '../../core/media/media-contract.js';
import type { AudienceService } from '../audience/audience.service.js';


/**
 * The audience log (play.started/ended -> live_audience rows). createControl routes these straight
 * to the service while the show's lifecycle (publish started/ended, recordings) takes the durable
 * event bus (control/callbacks/media-events.ts). Returns the detach function.
 */
export function attachAudienceEvents(
  emitter: MediaEventSource,
  audience: Pick<AudienceService, 'viewerJoined' | 'viewerLeft'>,
  log: Logger,
): () => void {
  const guard = (what: string) => (err: unknown) => log.error({ err, event: what }, 'media event handler failed');
  const joined = (e: MediaEvents['play.started']) => void audience.viewerJoined(e).catch(guard('play.started'));
  const left = (e: MediaEvents['play.ended']) => void audience.viewerLeft(e).catch(guard('play.ended'));
  emitter.on('play.started', joined);
  emitter.on('play.ended', left);
  return () => {
    emitter.off('play.started', joined);
    emitter.off('play.ended', left);
  };
}
