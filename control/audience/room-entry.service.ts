import type { Cache } from '../../core/cache/cache.port.js';
import { audienceKeys, cacheKeys } from '../../core/cache/keys.js';
import type { OnairConfig } from '../../core/config/schema.js';
import { ConflictError, ForbiddenError, UnauthorizedError } from '../../core/errors.js';
import type { Logger } from '../../core/logging/logger.js';
import type { MediaControl } from '../../core/media/media-contract.js';
import { InFlight } from '../../core/lifecycle/in-flight.js';
import type { AuthUser } from '../auth/user.js';
import type { LiveSessionStore } from '../live-sessions/live-session.store.js';
import { playGrant, type PlaybackService } from '../playback/playback.service.js';
import { publicHost } from '../rooms/room-urls.js';
import type { RoomService } from '../rooms/room.service.js';
import type { DomainEvents } from '../../core/events/domain-events.js';
import type { Presence } from './presence.js';

/** What the chat side offers the entry funnel (control/chat/chat.service.ts). */
export interface EntryChat {
  announcer: { joined(roomId: string, user: { id: string; name: string } | null, online: number): void; left(roomId: string, user: { id: string; name: string } | null, online: number): void };
  closeUser(roomId: string, userId: string, code: number, reason: string): void;
  userExited(roomId: string, userId: string): Promise<void>;
}

/** The enter/exit domain events this service emits (their route: control/audience/audience-events.handlers.ts). */
export type AudienceEventOut =
  | { kind: 'fan-out'; name: 'audience.entered'; event: DomainEvents['audience.entered'] }
  | { kind: 'fan-out'; name: 'audience.exited'; event: DomainEvents['audience.exited'] };

export interface RoomEntryDeps {
  cache: Cache;
  presence: Presence;
  rooms: Pick<RoomService, 'view'>;
  playback: Pick<PlaybackService, 'issuePlayToken'>;
  /** Hands an enter or exit to the domain-event intake (main.ts: pipeline.intake.accept(out, 'control')). */
  emit(out: AudienceEventOut): Promise<void>;
  media: Pick<MediaControl, 'kickViewer'>;
  isBlacklisted(roomId: string, userId: string): Promise<boolean>;
  /** The room's anonymous setting (true/false), or null to follow ONAIR_CHAT_ANONYMOUS. */
  anonymousSetting(roomId: string): Promise<boolean | null>;
  chat: EntryChat;
  config: Pick<OnairConfig, 'host' | 'publicHost' | 'http' | 'rtmp' | 'chat'>;
  log: Logger;
}

export { enteredKey } from './audience-events.handlers.js';

/**
 * Seed 000's 进入房间流程 and 观众退出流程:
 *   enter: kicked? (live:kick:{room}:{uid}) -> blacklisted? (room_blacklist) -> live? -> play URLs
 *          with a token bound to the viewer -> online +1, audience_join, audience.entered (its route
 *          writes the live_audience row, the unique viewers and the peak);
 *   exit:  in the room? -> media's kick-viewer -> online -1, audience_leave, chat sockets closed ->
 *          audience.exited (its route writes the watch time: the watch history).
 * Each refusal has its own code: kicked (403), blacklisted (403), room_not_found (404),
 * not_live (409), login_required (401), not_in_room (409).
 */
export class RoomEntryService {
  private readonly writes = new InFlight();

  constructor(private readonly deps: RoomEntryDeps) {}

  /** Throws ForbiddenError `kicked` (with the expiry) or `blacklisted`. */
  async checkAccess(roomId: string, userId: string): Promise<void> {
    const ttl = await this.deps.cache.ttl(cacheKeys.kick(roomId, userId));
    if (ttl !== -2) {
      const until = ttl > 0 ? new Date(Date.now() + ttl).toISOString() : 'permanent';
      throw new ForbiddenError(`kicked from this room until ${until}`, { code: 'kicked' });
    }
    if (await this.deps.isBlacklisted(roomId, userId)) throw new ForbiddenError('the anchor blocked you from this room', { code: 'blacklisted' });
  }

  async enter(user: AuthUser | undefined, roomId: string) {
    if (user) await this.checkAccess(roomId, user.id);
    const view = await this.deps.rooms.view(roomId);
    if (!view.is_live || !view.session_id) throw new ConflictError('the room is not live', { code: 'not_live' });
    if (!user && !(await this.anonymousAllowed(roomId))) throw new UnauthorizedError('log in to enter', { code: 'login_required' });
    const sessionId = view.session_id;
    const issued = await this.deps.playback.issuePlayToken(roomId, user?.id);
    let online = await this.deps.presence.online(roomId);
    if (user) {
      const joined = await this.deps.presence.join(roomId, user.id);
      online = joined.online;
      if (joined.changed) {
        this.deps.chat.announcer.joined(roomId, { id: user.id, name: user.username }, joined.online);
        this.entered(roomId, sessionId, user.id, joined.online);
      }
    }
    const host = `${publicHost(this.deps.config)}:${this.deps.config.http.port}`;
    return {
      room_id: roomId,
      session_id: sessionId,
      // The same grant as GET /play-token, edge-signed URLs included when an edge is configured.
      ...playGrant(issued),
      chat_url: `ws://${host}/ws/live/${sessionId}?token=${encodeURIComponent(issued.token)}`,
      can_post: user !== undefined,
      online,
    };
  }

  /** A user counted into the room (by /enter, or by a chat socket of a user not yet in it): audience.entered. */
  entered(roomId: string, sessionId: string | null, userId: string, online: number, at = Date.now()): void {
    this.background(this.deps.emit({ kind: 'fan-out', name: 'audience.entered', event: {
      eventId: `audience.entered:${roomId}:${userId}:${at}`, at, roomId, ...(sessionId ? { sessionId } : {}), userId, online,
    } }));
  }

  private exited(roomId: string, userId: string, reason: DomainEvents['audience.exited']['reason'], enteredAt: number | null, online: number): void {
    const at = Date.now();
    this.background(this.deps.emit({ kind: 'fan-out', name: 'audience.exited', event: {
      eventId: `audience.exited:${roomId}:${userId}:${at}`, at, roomId, userId, reason, enteredAt, online,
    } }));
  }

  /** Anonymous viewers may enter and read: the room's own setting, else ONAIR_CHAT_ANONYMOUS. */
  async anonymousAllowed(roomId: string): Promise<boolean> {
    return (await this.deps.anonymousSetting(roomId)) ?? this.deps.config.chat.anonymous;
  }

  async exit(user: AuthUser, roomId: string): Promise<{ online: number }> {
    if (!(await this.deps.presence.isMember(roomId, user.id))) throw new ConflictError('you are not in this room', { code: 'not_in_room' });
    const left = await this.remove(roomId, user.id, { name: user.username, closeCode: 1000, reason: 'exit' });
    // Their sockets on other nodes close too (the local ones already did).
    await this.deps.chat.userExited(roomId, user.id).catch((err: unknown) => this.deps.log.warn({ err, roomId }, 'announcing an exit failed'));
    return left;
  }

  /**
   * Takes a user out of the room (exit, kick): their media connections are dropped (media's
   * kick-viewer), their chat sockets on this node closed, the count lowered, the watch time written.
   */
  async remove(roomId: string, userId: string, options: { name?: string; closeCode: number; reason: 'exit' | 'kicked' | 'blacklisted' }): Promise<{ online: number }> {
    await this.deps.media.kickViewer(userId).catch((err: unknown) => this.deps.log.warn({ err, roomId }, 'kicking the viewer from media failed'));
    const left = await this.deps.presence.leave(roomId, userId);
    this.deps.chat.closeUser(roomId, userId, options.closeCode, options.reason === 'exit' ? 'exited' : options.reason);
    if (left.changed) {
      this.deps.chat.announcer.left(roomId, options.name ? { id: userId, name: options.name } : null, left.online);
      this.exited(roomId, userId, options.reason, left.enteredAt, left.online);
    }
    return { online: left.online };
  }

  /** A member whose sockets went silent past the heartbeat timeout (control/chat sweeper): audience.exited `timeout`. */
  async timedOut(roomId: string, member: string, enteredAt: number | null, online: number): Promise<void> {
    if (/^\d+$/.test(member)) this.exited(roomId, member, 'timeout', enteredAt, online);
  }

  private background(work: Promise<unknown>): void {
    void this.writes.track(work.then(() => undefined)).catch((err: unknown) => this.deps.log.error({ err }, 'audience write failed'));
  }

  idle(deadline: number): Promise<number> {
    return this.writes.idle(deadline);
  }
}
