import type { Logger } from '../../core/logging/logger.js';
import { NotFoundError, ValidationError } from '../../core/errors.js';
import type { PublishBan, PublishBanStore } from './publish-ban.store.js';

export interface ModerationDeps {
  bans: PublishBanStore;
  /** Checks the user exists (bans of unknown users are refused). */
  userExists(userId: string): Promise<boolean>;
  /** Called after a ban is written, so a live show of the user can be ended (wired in main.ts). */
  onBanned?(userId: string, reason: string): Promise<void>;
  /** Called after an active ban of the user was lifted by an operator (a moderation pause ends early: main.ts tells the rooms' chat). */
  onLifted?(userId: string): Promise<void>;
  log?: Logger;
  now?: () => number;
}

/**
 * Publishing bans (封禁/解封开播权限). The audit handler (callbacks) calls banPublishing for a
 * medium (timed) or severe (permanent) result; the live lifecycle calls isPublishBanned at start and at publish.
 */
export class ModerationService {
  private readonly now: () => number;
  constructor(private readonly deps: ModerationDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Bans publishing until `until` (null = permanent). Ends the user's live show if one runs. */
  async banPublishing(userId: string, until: Date | null, reason: string, createdBy: string | null = null): Promise<PublishBan> {
    if (until !== null && until.getTime() <= this.now()) throw new ValidationError('until must be in the future');
    if (!(await this.deps.userExists(userId))) throw new NotFoundError('no such user');
    const ban = await this.deps.bans.add({ userId, until, reason, createdBy });
    this.deps.log?.info({ userId, until, createdBy }, 'publishing banned');
    await this.deps.onBanned?.(userId, reason);
    return ban;
  }

  async liftPublishingBan(userId: string): Promise<number> {
    const lifted = await this.deps.bans.lift(userId, new Date(this.now()));
    this.deps.log?.info({ userId, lifted }, 'publishing ban lifted');
    if (lifted > 0) await this.deps.onLifted?.(userId);
    return lifted;
  }

  /** Lifts one ban (a pause whose reason was dismissed); true when it was still active. */
  async liftBan(banId: string): Promise<boolean> {
    const lifted = await this.deps.bans.liftById(banId, new Date(this.now()));
    this.deps.log?.info({ banId, lifted }, 'publishing ban lifted');
    if (lifted && this.deps.onLifted) {
      const ban = await this.deps.bans.findById(banId);
      if (ban) await this.deps.onLifted(ban.userId);
    }
    return lifted;
  }

  async isPublishBanned(userId: string): Promise<boolean> {
    return (await this.activeBan(userId)) !== null;
  }

  activeBan(userId: string): Promise<PublishBan | null> {
    return this.deps.bans.active(userId, new Date(this.now()));
  }
}
