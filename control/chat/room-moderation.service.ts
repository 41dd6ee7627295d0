import type { Cache } from '../../core/cache/cache.port.js';
import { audienceKeys, cacheKeys } from '../../core/cache/keys.js';
import { ForbiddenError, NotFoundError, ValidationError } from '../../core/errors.js';
import type { Logger } from '../../core/logging/logger.js';
import type { PubSub } from '../../core/pubsub/pubsub.port.js';
import { roomChannel } from '../../core/pubsub/wire.js';
import type { AuthUser } from '../auth/user.js';
import type { RoomService } from '../rooms/room.service.js';
import type { RoomEntryService } from '../audience/room-entry.service.js';
import type { MessageStore } from './message.store.js';
import type { RoomModerationStore } from './room-moderation.store.js';

export type RoomRole = 'operator' | 'anchor' | 'admin' | 'viewer';

export interface RoomModerationDeps {
  store: RoomModerationStore;
  messages: MessageStore;
  rooms: Pick<RoomService, 'get'>;
  entry: Pick<RoomEntryService, 'remove'>;
  cache: Cache;
  pubsub: PubSub;
  kickDurationMs: number;
  /** The room's rules changed (this node's cache of them is dropped). */
  rulesChanged?(roomId: string): void;
  log: Logger;
}

/**
 * The anchor's tools in a room (seed 000): kick, mute, room admins, the blacklist, slow mode,
 * message deletion, and viewers' reports. Who may do what:
 *   - the anchor (room owner) and operators: everything;
 *   - room admins: kick, mute, delete messages, slow mode, but never the anchor, another admin or an operator;
 *   - anyone logged in: report.
 * Every action lands in room_moderation_log; kicks, mutes and deletions are announced on the room channel.
 */
export class RoomModerationService {
  constructor(private readonly deps: RoomModerationDeps) {}

  async roleOf(user: AuthUser, roomId: string): Promise<RoomRole> {
    if (user.role === 'operator') return 'operator';
    const room = await this.deps.rooms.get(roomId);
    if (room.ownerId === user.id) return 'anchor';
    return (await this.deps.store.isAdmin(roomId, user.id)) ? 'admin' : 'viewer';
  }

  /** The actor may act on `targetId`: anchors and operators on anyone but the anchor; admins on plain viewers. */
  private async authorize(actor: AuthUser, roomId: string, targetId: string | null, needs: 'moderate' | 'own'): Promise<RoomRole> {
    const role = await this.roleOf(actor, roomId);
    if (role === 'viewer' || (needs === 'own' && role === 'admin')) throw new ForbiddenError('you may not moderate this room', { code: 'not_room_moderator' });
    if (targetId !== null) {
      if (targetId === actor.id) throw new ValidationError('you cannot do this to yourself', { code: 'self_target' });
      const room = await this.deps.rooms.get(roomId);
      if (targetId === room.ownerId) throw new ForbiddenError('the anchor cannot be moderated in their own room', { code: 'target_is_anchor' });
      if (role === 'admin' && (await this.deps.store.isAdmin(roomId, targetId))) {
        throw new ForbiddenError('room admins cannot moderate each other', { code: 'target_is_admin' });
      }
    }
    return role;
  }

  async kick(actor: AuthUser, roomId: string, targetId: string, options: { durationMs?: number; reason?: string } = {}) {
    await this.authorize(actor, roomId, targetId, 'moderate');
    const durationMs = options.durationMs ?? this.deps.kickDurationMs;
    const until = Date.now() + durationMs;
    await this.deps.cache.set(cacheKeys.kick(roomId, targetId), String(until), durationMs);
    // Every node closes the user's chat sockets when this reaches it (control/chat/room-fanout.ts).
    await this.deps.pubsub.publish(roomChannel(roomId), { v: 1, type: 'kicked', user_id: targetId, until, ...(options.reason ? { reason: options.reason } : {}) });
    await this.deps.entry.remove(roomId, targetId, { closeCode: 4003, reason: 'kicked' });
    await this.log(roomId, actor, 'kick', targetId, `${Math.round(durationMs / 1000)}s${options.reason ? `: ${options.reason}` : ''}`);
    return { user_id: targetId, until: new Date(until).toISOString() };
  }

  async mute(actor: AuthUser, roomId: string, targetId: string, durationMs: number, reason?: string) {
    await this.authorize(actor, roomId, targetId, 'moderate');
    const until = Date.now() + durationMs;
    await this.deps.cache.set(audienceKeys.mute(roomId, targetId), String(until), durationMs);
    await this.deps.pubsub.publish(roomChannel(roomId), { v: 1, type: 'muted', user_id: targetId, until, ...(reason ? { reason } : {}) });
    await this.log(roomId, actor, 'mute', targetId, `${Math.round(durationMs / 1000)}s${reason ? `: ${reason}` : ''}`);
    return { user_id: targetId, until: new Date(until).toISOString() };
  }

  async unmute(actor: AuthUser, roomId: string, targetId: string) {
    await this.authorize(actor, roomId, targetId, 'moderate');
    await this.deps.cache.del(audienceKeys.mute(roomId, targetId));
    await this.deps.pubsub.publish(roomChannel(roomId), { v: 1, type: 'muted', user_id: targetId, until: 0 });
    await this.log(roomId, actor, 'unmute', targetId);
  }

  async setAdmin(actor: AuthUser, roomId: string, targetId: string, admin: boolean) {
    await this.authorize(actor, roomId, targetId, 'own');
    const changed = await this.deps.store.setAdmin(roomId, targetId, admin);
    await this.log(roomId, actor, admin ? 'set_admin' : 'unset_admin', targetId);
    return { changed };
  }

  async listAdmins(actor: AuthUser, roomId: string) {
    await this.authorize(actor, roomId, null, 'moderate');
    return this.deps.store.listAdmins(roomId);
  }

  /** The anchor's permanent block list: the user is taken out of the room now and refused from then on. */
  async blacklist(actor: AuthUser, roomId: string, targetId: string, add: boolean) {
    await this.authorize(actor, roomId, targetId, 'own');
    if (!add) {
      const changed = await this.deps.store.removeFromBlacklist(roomId, targetId);
      await this.log(roomId, actor, 'unblacklist', targetId);
      return { changed };
    }
    const changed = await this.deps.store.addToBlacklist(roomId, targetId, actor.id);
    await this.deps.pubsub.publish(roomChannel(roomId), { v: 1, type: 'kicked', user_id: targetId, until: 0, reason: 'blacklisted' });
    await this.deps.entry.remove(roomId, targetId, { closeCode: 4003, reason: 'blacklisted' });
    await this.log(roomId, actor, 'blacklist', targetId);
    return { changed };
  }

  async listBlacklist(actor: AuthUser, roomId: string) {
    await this.authorize(actor, roomId, null, 'own');
    return this.deps.store.listBlacklist(roomId);
  }

  /** Anonymous readers in this room: allowed, refused, or null to follow ONAIR_CHAT_ANONYMOUS (anchor and operators). */
  async setAnonymous(actor: AuthUser, roomId: string, anonymous: boolean | null) {
    await this.authorize(actor, roomId, null, 'own');
    await this.deps.store.setAnonymous(roomId, anonymous);
    await this.log(roomId, actor, 'chat_anonymous', null, String(anonymous));
  }

  /** The room's own rules, shown on entering its chat after the platform's conventions (null removes them; anchor and operators). */
  async setRules(actor: AuthUser, roomId: string, rules: string | null) {
    await this.authorize(actor, roomId, null, 'own');
    await this.deps.store.setRules(roomId, rules);
    this.deps.rulesChanged?.(roomId);
    await this.log(roomId, actor, 'chat_rules', null, rules === null ? 'removed' : `${rules.length} characters`);
  }

  /** What the room's chat settings are (anyone may read them: the rules are public). */
  async settings(roomId: string) {
    await this.deps.rooms.get(roomId);
    const [anonymous, rules] = await Promise.all([this.deps.store.anonymousSetting(roomId), this.deps.store.rules(roomId)]);
    return { anonymous, rules };
  }

  /** Slow mode: each viewer may post once every `seconds` (0 turns it off). */
  async slowMode(actor: AuthUser, roomId: string, seconds: number) {
    await this.authorize(actor, roomId, null, 'moderate');
    if (seconds > 0) await this.deps.cache.set(audienceKeys.slowMode(roomId), String(seconds));
    else await this.deps.cache.del(audienceKeys.slowMode(roomId));
    await this.deps.pubsub.publishKept(roomChannel(roomId), {
      v: 1, type: 'notice', code: 'slow_mode', text: seconds > 0 ? `Slow mode: one message every ${seconds} s` : 'Slow mode is off', seconds,
    });
    await this.log(roomId, actor, 'slow_mode', null, String(seconds));
  }

  /** Hides a message everywhere: the record, and every client (`message_deleted`, kept so resumes see it). */
  async deleteMessage(actor: AuthUser, roomId: string, messageId: string) {
    await this.authorize(actor, roomId, null, 'moderate');
    const message = await this.deps.messages.find(roomId, messageId);
    if (!message) throw new NotFoundError('no such message in this room', { code: 'message_not_found' });
    if (message.userId !== null) await this.authorize(actor, roomId, message.userId === actor.id ? null : message.userId, 'moderate');
    await this.deps.messages.hide(roomId, messageId);
    await this.deps.pubsub.publishKept(roomChannel(roomId), { v: 1, type: 'message_deleted', message_id: messageId, by: actor.id });
    await this.log(roomId, actor, 'delete_message', message.userId, `${messageId}: ${message.content.slice(0, 200)}`);
  }

  async report(reporter: AuthUser, roomId: string, input: { messageId?: string; reason: string }) {
    await this.deps.rooms.get(roomId);
    const id = await this.deps.store.addReport({ roomId, reporterId: reporter.id, messageId: input.messageId ?? null, reason: input.reason });
    await this.log(roomId, reporter, 'report', null, `${input.messageId ? `${input.messageId}: ` : ''}${input.reason}`);
    return { id };
  }

  private async log(roomId: string, actor: AuthUser, action: string, targetUserId: string | null, detail?: string): Promise<void> {
    await this.deps.store.logAction({ roomId, actorId: actor.id, action, targetUserId, detail });
    this.deps.log.info({ roomId, actor: actor.id, action, target: targetUserId }, 'room moderation');
  }
}
