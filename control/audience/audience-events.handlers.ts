import type { Cache } from '../../core/cache/cache.port.js';
import { audienceKeys } from '../../core/cache/keys.js';
import type { DomainEvents } from '../../core/events/domain-events.js';
import { InFlight } from '../../core/lifecycle/in-flight.js';
import type { LiveSessionStore } from '../live-sessions/live-session.store.js';
import type { AudienceStore } from './audience.store.js';

/** The audience row key of a viewer who entered through the API (media's own rows use its viewer ids). */
export const enteredKey = (userId: string) => `u:${userId}`;

export interface AudienceEventDeps {
  audience: Pick<AudienceStore, 'enter' | 'exit'>;
  cache: Pick<Cache, 'sAdd'>;
  sessions: Pick<LiveSessionStore, 'raisePeakViewers'>;
}

/**
 * The one route of audience.entered / audience.exited (seed 000 进入房间 / 观众退出, whichever
 * edge saw them: /enter, /exit, a kick, the heartbeat sweeper): the enter log in live_audience (the
 * settlement's unique viewers), the session's unique set and peak, and on exit the watch time
 * (`now - enter_time`), which is also the user's watch history (GET /me/watch-history). The writes
 * are batched by AudienceStore; idle() lets a shutdown wait for them.
 */
export class AudienceEventHandlers {
  private readonly writes = new InFlight();

  constructor(private readonly deps: AudienceEventDeps) {}

  entered = (event: DomainEvents['audience.entered']): Promise<void> => this.writes.track((async () => {
    const { sessionId } = event;
    if (!sessionId) return;
    await this.deps.audience.enter({ sessionId, roomId: event.roomId, userId: event.userId, viewerKey: enteredKey(event.userId), at: new Date(event.at) });
    await this.deps.cache.sAdd(audienceKeys.unique(sessionId), event.userId);
    await this.deps.sessions.raisePeakViewers(sessionId, event.online);
  })());

  exited = (event: DomainEvents['audience.exited']): Promise<void> => this.writes.track((async () => {
    await this.deps.audience.exit(enteredKey(event.userId), new Date(event.at));
  })());

  idle(deadline: number): Promise<number> {
    return this.writes.idle(deadline);
  }
}
