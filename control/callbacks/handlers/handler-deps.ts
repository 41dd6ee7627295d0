import type { Database } from '../../../core/database/database.js';
import type { Logger } from '../../../core/logging/logger.js';
import type { MediaControl, PublishEnded, PublishStarted } from '../../../core/media/media-contract.js';

/**
 * What the callback handlers need from the rest of control, declared here (STYLE §2.3) and satisfied
 * by the control helper's services: RoomStore/RoomService, LiveSessionService, LiveSessionStore,
 * ModerationService, PendingBanService and MediaControl. main.ts passes those objects in as they are.
 */
export interface CallbackHandlerDeps {
  /** The database the handlers' own tables live in (live_records, live_screenshots, ...). */
  db: Database;
  rooms: {
    findById(id: string): Promise<{ id: string; ownerId: string; coverUrl: string | null } | null>;
    update(id: string, patch: { coverUrl?: string | null }): Promise<void>;
  };
  roomService: { revokeStreamKey(roomId: string): Promise<void>; invalidate(roomId: string): Promise<void> };
  sessions: {
    markLive(ev: PublishStarted): Promise<{ id: string; roomId: string; anchorId: string; status: string } | null>;
    publisherGone(ev: PublishEnded): Promise<void>;
    endAllOfAnchor(anchorId: string, closeMethod: 1 | 2 | 3, reason: string): Promise<unknown>;
  };
  sessionStore: { findActiveByRoom(roomId: string): Promise<{ id: string; anchorId: string } | null> };
  moderation: {
    isPublishBanned(userId: string): Promise<boolean>;
    banPublishing(userId: string, until: Date | null, reason: string): Promise<{ id: string }>;
  };
  /** Severe verdicts from callbacks whose body no signature covers wait here for an operator (control/moderation). */
  pendingBans: {
    queue(input: {
      identity: string; userId: string; roomId: string | null; sessionId: string | null; reason: string;
      evidenceUrl: string | null; pauseBanId: string | null;
    }): Promise<unknown>;
  };
  media: Pick<MediaControl, 'kickPublisher'>;
  /** config.live.auditPause: how long a medium audit result blocks publishing. */
  auditPauseMs: number;
  log: Logger;
  now?: () => number;
}
