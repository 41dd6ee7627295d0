import type { PublishEnded } from '../../../core/media/media-contract.js';
import type { CallbackHandler } from '../callback-consumer.js';
import type { CallbackHandlerDeps } from './handler-deps.js';

/**
 * cut-off (event_type 0): hands the publisher's end to LiveSessionService.publisherGone, which
 * keeps the session through the reconnect grace and then ends it (ended, duration = end - start,
 * Redis cleaned, statistics and settlement scheduled, close_method 3). The publisherId pairs it
 * with its push: a cut-off of an older publish does not end a newer one.
 */
export function cutOffHandler(deps: CallbackHandlerDeps): CallbackHandler {
  return async ({ event }) => {
    const ended: PublishEnded = event.source === 'css'
      ? {
          streamName: event.streamName,
          app: String(event.body.appname ?? 'live'),
          publisherId: `css:${event.sequence ?? ''}`,
          at: event.at,
          reason: 'closed',
          bytesIn: 0,
          durationMs: Number(event.body.push_duration ?? 0) || 0,
        }
      : (event.body as unknown as PublishEnded);
    await deps.sessions.publisherGone(ended);
  };
}
