import type { Logger } from '../../core/logging/logger.js';
import { ConflictError, NotFoundError } from '../../core/errors.js';
import type { PublishBan } from './publish-ban.store.js';
import type { NewPendingBan, PendingBan, PendingBanStatus, PendingBanStore } from './pending-ban.store.js';

export interface PendingBanDeps {
  store: PendingBanStore;
  moderation: {
    banPublishing(userId: string, until: Date | null, reason: string, createdBy?: string | null): Promise<PublishBan>;
    liftBan(banId: string): Promise<boolean>;
  };
  rooms: { revokeStreamKey(roomId: string): Promise<void> };
  log?: Logger;
  now?: () => number;
}

/**
 * Bans that wait for an operator. A severe audit verdict whose body no signature covers (the
 * vendor's MD5(key + t) alone: anyone holding one captured signature could have written it) must
 * not ban an anchor for good by itself. The audit handler pauses the stream (a timed ban, the show
 * ended) and queues the permanent ban here; an operator confirms it (permanent ban, stream key
 * revoked) or dismisses it (the pause is lifted). The operator console (a later issue) reads this API.
 */
export class PendingBanService {
  private readonly now: () => number;
  constructor(private readonly deps: PendingBanDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Idempotent by the verdict's identity. */
  async queue(input: NewPendingBan): Promise<PendingBan> {
    const pending = await this.deps.store.add(input, new Date(this.now()));
    this.deps.log?.warn({ pendingBanId: pending.id, userId: input.userId, roomId: input.roomId }, 'severe verdict from an unverified callback: ban queued for an operator');
    return pending;
  }

  list(options: { status?: PendingBanStatus; limit?: number } = {}): Promise<PendingBan[]> {
    return this.deps.store.list({ status: options.status, limit: options.limit ?? 100 });
  }

  /** Applies the ban: permanent, and the room's key revoked (as a verified severe verdict does). */
  async confirm(id: string, operatorId: string): Promise<{ pending: PendingBan; ban: PublishBan }> {
    const pending = await this.pendingOrThrow(id);
    // Decided first (a conditional update): a dismissal by another operator at the same moment wins
    // or loses whole. Banning first let a confirm that lost the race still ban the anchor for good
    // (and revoke the key) while the record said dismissed and the pause was lifted.
    if (!(await this.deps.store.decide(id, 'confirmed', operatorId, new Date(this.now())))) throw alreadyDecided();
    let ban: PublishBan;
    try {
      ban = await this.deps.moderation.banPublishing(pending.userId, null, `confirmed: ${pending.reason}`.slice(0, 512), operatorId);
      if (pending.roomId) await this.deps.rooms.revokeStreamKey(pending.roomId);
    } catch (err) {
      // Not applied: the ban waits for a decision again.
      await this.deps.store.reopen(id, 'confirmed').catch(() => undefined);
      throw err;
    }
    this.deps.log?.warn({ pendingBanId: id, userId: pending.userId, operatorId }, 'pending ban confirmed');
    return { pending: (await this.deps.store.findById(id))!, ban };
  }

  /** Drops the ban and lifts the pause it came with (if still running). */
  async dismiss(id: string, operatorId: string): Promise<{ pending: PendingBan; pauseLifted: boolean }> {
    const pending = await this.pendingOrThrow(id);
    if (!(await this.deps.store.decide(id, 'dismissed', operatorId, new Date(this.now())))) throw alreadyDecided();
    const pauseLifted = pending.pauseBanId ? await this.deps.moderation.liftBan(pending.pauseBanId) : false;
    this.deps.log?.info({ pendingBanId: id, userId: pending.userId, operatorId, pauseLifted }, 'pending ban dismissed');
    return { pending: (await this.deps.store.findById(id))!, pauseLifted };
  }

  private async pendingOrThrow(id: string): Promise<PendingBan> {
    const pending = await this.deps.store.findById(id);
    if (!pending) throw new NotFoundError('no such pending ban', { code: 'pending_ban_not_found' });
    if (pending.status !== 'pending') throw alreadyDecided();
    return pending;
  }
}

const alreadyDecided = () => new ConflictError('this ban was already decided', { code: 'already_decided' });
