import { NotFoundError, ValidationError } from '../../core/errors.js';
import type { Logger } from '../../core/logging/logger.js';
import { insertNotification } from '../notifications/notification.store.js';
import type { ModerationService } from './moderation.service.js';
import type { ActionSource, OperatorAction, OperatorActionRow, OperatorActionStore } from './operator-action.store.js';

export interface OperatorActionDeps {
  store: OperatorActionStore;
  moderation: Pick<ModerationService, 'banPublishing'>;
  rooms: { findById(id: string): Promise<{ id: string; ownerId: string } | null> };
  /** The room's chat hears a warning as a system notice (wired in main.ts: the chat module is built later). */
  chatNotice(roomId: string, notice: { code: 'moderation_warning'; reason: string }): Promise<void>;
  /** Pushes the committed notification to the anchor's live sockets (control/notifications). */
  notifyPush?: { pushLater(dedupeKey: string, userIds: string[]): void };
  /** The longest pause an operator may choose. */
  maxPauseMs?: number;
  log?: Logger;
  now?: () => number;
}

export interface OperatorActionInput {
  operatorId: string;
  action: OperatorAction;
  source: ActionSource;
  sourceId: string;
  reason: string;
  /** pause only: how long publishing stays blocked. */
  minutes?: number;
}

/**
 * The console's actions on each item of its audit view (an audit verdict, a viewer report, an
 * anchor's in-room moderation action) or on a room, every one written to moderation_actions:
 *   dismiss  nothing is done to the anchor (a viewer report is closed)
 *   warn     the anchor is told: a `moderation_warning` notification (pushed live) and a system
 *            notice in the room's chat
 *   pause    publishing blocked for the chosen minutes: the moderation pause (a timed publishing
 *            ban, so the live show ends and the chat hears `stream_paused` until then)
 *   ban      publishing blocked for good
 * Any action on an open report closes it. Confirming a pending ban stays on its own endpoint.
 */
export class OperatorActionService {
  private readonly now: () => number;
  constructor(private readonly deps: OperatorActionDeps) {
    this.now = deps.now ?? Date.now;
  }

  async act(input: OperatorActionInput): Promise<OperatorActionRow> {
    const found = await this.deps.store.resolve(input.source, input.sourceId);
    if (!found) throw new NotFoundError(`no such ${input.source.replace('_', ' ')}`, { code: `${input.source}_not_found` });
    const room = found.roomId ? await this.deps.rooms.findById(found.roomId) : null;
    const anchorId = found.anchorId ?? room?.ownerId ?? null;
    const at = this.now();
    let until: number | null = null;
    if (input.action !== 'dismiss' && !anchorId) throw new ValidationError('the item names no anchor to act on', { code: 'no_anchor' });
    if (input.action === 'pause') {
      const minutes = input.minutes;
      const max = this.deps.maxPauseMs ?? 30 * 86_400_000;
      if (minutes === undefined || !Number.isInteger(minutes) || minutes < 1 || minutes * 60_000 > max) {
        throw new ValidationError(`minutes must be a whole number from 1 to ${Math.floor(max / 60_000)}`, { code: 'invalid_minutes' });
      }
      until = at + minutes * 60_000;
    }
    // The sanction first (it is what matters; a failure leaves no log line claiming it happened).
    if (input.action === 'pause' || input.action === 'ban') {
      await this.deps.moderation.banPublishing(anchorId!, until === null ? null : new Date(until), `${input.action} by an operator: ${input.reason}`, input.operatorId);
    }
    const roomId = room?.id ?? found.roomId;
    const id = await this.deps.store.add({
      operator_id: input.operatorId, action: input.action, source: input.source, source_id: input.sourceId, room_id: roomId, user_id: anchorId,
      reason: input.reason, until, at,
    }, async (tx, actionId) => {
      if (input.source === 'report') await tx.run(`UPDATE room_reports SET status = 'closed' WHERE id = ?`, [input.sourceId]);
      if (input.action === 'warn') {
        await insertNotification(tx, anchorId!, 'moderation_warning', `modwarn:${actionId}`, { room_id: roomId, reason: input.reason, source: input.source });
      }
    });
    if (input.action === 'warn') {
      this.deps.notifyPush?.pushLater(`modwarn:${id}`, [anchorId!]);
      if (roomId) {
        await this.deps.chatNotice(roomId, { code: 'moderation_warning', reason: input.reason })
          .catch((err: unknown) => this.deps.log?.warn({ err, roomId }, 'the warning did not reach the room chat'));
      }
    }
    this.deps.log?.info({ actionId: id, action: input.action, source: input.source, sourceId: input.sourceId, roomId, anchorId, operatorId: input.operatorId }, 'operator moderation action');
    return {
      id, operator_id: input.operatorId, action: input.action, source: input.source, source_id: input.sourceId, room_id: roomId, user_id: anchorId,
      reason: input.reason, until: until === null ? null : new Date(until).toISOString(), created_at: new Date(at).toISOString(),
    };
  }

  list(filter: { roomId?: string; source?: ActionSource; sourceId?: string; page: number; pageSize: number }) {
    return this.deps.store.list({ ...filter, limit: filter.pageSize, offset: (filter.page - 1) * filter.pageSize });
  }
}
