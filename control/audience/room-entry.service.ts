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
import type { AudienceStore } from './audience.store.js';
import type { Presence } from './presence.js';

/** What the chat side offers the entry funnel (control/chat/chat.service.ts). */
export interface EntryChat {
  announcer: { joined(roomId: string, user: { id: string; name: string } | null, online: number): void; left(roomId: string, user: { id: string; name: string } | null, online: number): void };
  closeUser(roomId: string, userId: string, code: number, reason: string): void;
  userExited(roomId: string, userId: string): Promise<void>;
}

export interface RoomEntryDeps {
  cache: Cache;
  presence: Presence;
  rooms: Pick<RoomService, 'view'>;
  playback: Pick<PlaybackService, 'issuePlayToken'>;
  audience: AudienceStore;
  sessions: Pick<LiveSessionStore, 'raisePeakViewers'>;
  media: Pick<MediaControl, 'kickViewer'>;
  isBlacklisted(roomId: string, userId: string): Promise<boolean>;
  /** The room's anonymous setting (true/false), or null to follow ONAIR_CHAT_ANONYMOUS. */
  anonymousSetting(roomId: string): Promise<boolean | null>;
  chat: EntryChat;
  config: Pick<OnairConfig, 'host' | 'publicHost' | 'http' | 'rtmp' | 'chat'>;
  log: Logger;
}

/** The audience row key of a viewer who entered through the API (media's own rows use its viewer ids). */
export const enteredKey = (userId: string) => `u:${userId}`;

/**
 * Seed 000's 进入房间流程 and 观众退出流程:
 *   enter: kicked? (live:kick:{room}:{uid}) -> blacklisted? (room_blacklist) -> live? -> play URLs
 *          with a token bound to the viewer -> live_audience row -> online +1, audience_join;
 *   exit:  in the room? -> media's kick-viewer -> online -1, audience_leave -> watch time (async).
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
        this.background(this.recordEnter(sessionId, roomId, user.id, joined.online));
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

  private async recordEnter(sessionId: string, roomId: string, userId: string, online: number): Promise<void> {
    await this.deps.audience.enter({ sessionId, roomId, userId, viewerKey: enteredKey(userId), at: new Date() });
    await this.deps.cache.sAdd(audienceKeys.unique(sessionId), userId);
    await this.deps.sessions.raisePeakViewers(sessionId, online);
  }

  /** Anonymous viewers may enter and read: the room's own setting, else ONAIR_CHAT_ANONYMOUS. */
  async anonymousAllowed(roomId: string): Promise<boolean> {
    return (await this.deps.anonymousSetting(roomId)) ?? this.deps.config.chat.anonymous;
  }

  async exit(user: AuthUser, roomId: string): Promise<{ online: number }> {
    if (!(await this.deps.presence.isMember(roomId, user.id))) throw new ConflictError('you are not in this room', { code: 'not_in_room' });
    const left = await this.remove(roomId, user.id, { name: user.username, closeCode: 1000, reason: 'exited' });
    // Their sockets on other nodes close too (the local ones already did).
    await this.deps.chat.userExited(roomId, user.id).catch((err: unknown) => this.deps.log.warn({ err, roomId }, 'announcing an exit failed'));
    return left;
  }

  /**
   * Takes a user out of the room (exit, kick): their media connections are dropped (media's
   * kick-viewer), their chat sockets on this node closed, the count lowered, the watch time written.
   */
  async remove(roomId: string, userId: string, options: { name?: string; closeCode: number; reason: string }): Promise<{ online: number }> {
    await this.deps.media.kickViewer(userId).catch((err: unknown) => this.deps.log.warn({ err, roomId }, 'kicking the viewer from media failed'));
    const left = await this.deps.presence.leave(roomId, userId);
    this.deps.chat.closeUser(roomId, userId, options.closeCode, options.reason);
    if (left.changed) {
      this.deps.chat.announcer.left(roomId, options.name ? { id: userId, name: options.name } : null, left.online);
      this.background(this.recordExit(userId));
    }
    return { online: left.online };
  }

  /** A member whose sockets went silent past the heartbeat timeout (control/chat sweeper). */
  async timedOut(_roomId: string, member: string): Promise<void> {
    if (/^\d+$/.test(member)) await this.recordExit(member);
  }

  private async recordExit(userId: string): Promise<void> {
    await this.deps.audience.exit(enteredKey(userId), new Date());
  }

  private background(work: Promise<unknown>): void {
    void this.writes.track(work.then(() => undefined)).catch((err: unknown) => this.deps.log.error({ err }, 'audience write failed'));
  }

  idle(deadline: number): Promise<number> {
    return this.writes.idle(deadline);
  }
}
