import type { Logger } from '../../core/logging/logger.js';
import type { PlayEnded, PlayStarted } from '../../core/media/media-contract.js';
import type { LiveSessionStore } from '../live-sessions/live-session.store.js';
import type { LiveSession } from '../live-sessions/live-session.js';
import type { AudienceStore } from './audience.store.js';
import { InFlight } from '../../core/lifecycle/in-flight.js';

/**
 * Viewings from viewer.joined / viewer.left (viewer-events.handlers.ts) (seed 000 进房/退房: enter log, watch time on exit).
 * The settlement counts distinct viewers per session from these rows.
 */
export class AudienceService {
  constructor(
    private readonly audience: AudienceStore,
    private readonly sessions: Pick<LiveSessionStore, 'findActiveByRoom'>,
    private readonly log?: Logger,
  ) {}

  /** The room's active session, looked up once per room and second rather than once per viewer. */
  private readonly activeSessions = new Map<string, { at: number; session: Promise<LiveSession | null> }>();

  private activeSession(roomId: string, now: number): Promise<LiveSession | null> {
    const hit = this.activeSessions.get(roomId);
    if (hit && now - hit.at < 1000) return hit.session;
    const session = this.sessions.findActiveByRoom(roomId);
    this.activeSessions.set(roomId, { at: now, session });
    if (this.activeSessions.size > 10_000) this.activeSessions.delete(this.activeSessions.keys().next().value!);
    session.catch(() => this.activeSessions.delete(roomId));
    return session;
  }

  /** Joins and leaves being written (batched): a shutdown waits for them before closing the database. */
  private readonly writes = new InFlight();

  viewerJoined(ev: Pick<PlayStarted, 'streamName' | 'viewerId' | 'at'>, userId: string | null = null): Promise<void> {
    return this.writes.track((async () => {
      const session = await this.activeSession(ev.streamName, Date.now());
      if (session?.status !== 'live') return;
      await this.audience.enter({ sessionId: session.id, roomId: session.roomId, userId, viewerKey: ev.viewerId, at: new Date(ev.at) });
    })());
  }

  viewerLeft(ev: Pick<PlayEnded, 'viewerId' | 'at'>): Promise<void> {
    return this.writes.track((async () => {
      const watched = await this.audience.exit(ev.viewerId, new Date(ev.at));
      if (watched !== null) this.log?.debug({ viewerId: ev.viewerId, watchS: watched }, 'viewer left');
    })());
  }

  /** Waits for the audience writes in progress until `deadline` (epoch ms); resolves with how many did not finish. */
  idle(deadline: number): Promise<number> {
    return this.writes.idle(deadline);
  }
}
