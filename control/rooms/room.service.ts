import type { Cache } from '../../core/cache/cache.port.js';
import { audienceKeys, cacheKeys, cacheTtl } from '../../core/cache/keys.js';
import type { OnairConfig } from '../../core/config/schema.js';
import { ConflictError, ForbiddenError, NotFoundError } from '../../core/errors.js';
import type { Logger } from '../../core/logging/logger.js';
import type { MediaControl } from '../../core/media/media-contract.js';
import { newStreamKey } from '../../core/tokens/stream-key.js';
import type { AuthUser } from '../auth/user.js';
import type { UserStore } from '../auth/user.store.js';
import type { Room } from './room.js';
import type { RoomStore } from './room.store.js';
import { playUrls, pushUrl, rtmpServerUrl, type PlayUrls } from './room-urls.js';

/** What anyone may see of a room (GET /rooms/{id}); cached under cacheKeys.roomInfo for 30 min. */
export interface RoomView {
  id: string;
  title: string;
  cover_url: string | null;
  owner: { id: string; username: string | null };
  is_live: boolean;
  status: 'idle' | 'preparing' | 'live';
  session_id: string | null;
  viewers: number;
  /** Viewers in the room (entered, or with a chat socket), across every control node; 0 when not live. */
  online: number;
  record: boolean;
  /** When live: URLs without a token (media refuses them until one is added) and where to get one. */
  play: (PlayUrls & { token_url: string }) | null;
}

/** GET /rooms/{id}: the view and the live show's like and share totals (null when not live). */
export interface RoomDetail extends RoomView {
  likes: number | null;
  shares: number | null;
}

export interface RoomServiceDeps {
  rooms: RoomStore;
  users: UserStore;
  /** The room's active session (live-sessions/ satisfies it; rooms/ does not import it: live-sessions builds on rooms). */
  sessions: { findActiveByRoom(roomId: string): Promise<{ id: string; status: string } | null> };
  cache: Cache;
  config: Pick<OnairConfig, 'host' | 'publicHost' | 'http' | 'rtmp'>;
  media: Pick<MediaControl, 'kickPublisher'>;
  log?: Logger;
}

export class RoomService {
  constructor(private readonly deps: RoomServiceDeps) {}

  async create(owner: AuthUser, input: { title: string; coverUrl?: string | null; record?: boolean }) {
    const room = await this.deps.rooms.create({
      ownerId: owner.id, title: input.title, coverUrl: input.coverUrl ?? null, streamKey: newStreamKey(), recordEnabled: input.record ?? false,
    });
    this.deps.log?.info({ roomId: room.id, ownerId: owner.id }, 'room created');
    return { room, pushUrl: pushUrl(this.deps.config, room.streamKey), serverUrl: rtmpServerUrl(this.deps.config) };
  }

  async get(id: string): Promise<Room> {
    const room = await this.deps.rooms.findById(id);
    if (!room) throw new NotFoundError('no such room', { code: 'room_not_found' });
    return room;
  }

  /** The room, when `user` owns it; 403 otherwise. */
  async getOwned(user: AuthUser, id: string): Promise<Room> {
    const room = await this.get(id);
    if (room.ownerId !== user.id) throw new ForbiddenError('not your room', { code: 'not_owner' });
    return room;
  }

  async view(id: string): Promise<RoomView> {
    const key = cacheKeys.roomInfo(id);
    const cached = await this.deps.cache.get(key);
    let view: RoomView;
    if (cached) {
      view = JSON.parse(cached) as RoomView;
    } else {
      view = await this.buildView(await this.get(id));
      await this.deps.cache.set(key, JSON.stringify(view), cacheTtl.roomInfo);
    }
    // The online count changes every few seconds: read it live, never from the 30-minute cache.
    const [online, audience] = await Promise.all([this.deps.cache.get(cacheKeys.roomOnlineCount(id)), this.deps.cache.get(audienceKeys.online(id))]);
    return {
      ...view,
      viewers: view.is_live && online !== null ? Math.max(0, Number(online)) : view.viewers,
      online: view.is_live ? Math.max(0, Number(audience ?? 0)) : 0,
    };
  }

  /**
   * GET /rooms/{id}: the view plus the live show's `likes` and `shares` (read each time, never from
   * the cached view; null when the room is not live). Lists keep the plain view: no read per room.
   */
  async detail(id: string): Promise<RoomDetail> {
    const view = await this.view(id);
    const counters = view.is_live && view.session_id ? await this.deps.rooms.sessionCounters(view.session_id) : null;
    return { ...view, likes: counters?.likes ?? null, shares: counters?.shares ?? null };
  }

  private async buildView(room: Room): Promise<RoomView> {
    const [owner, session] = await Promise.all([this.deps.users.findById(room.ownerId), this.deps.sessions.findActiveByRoom(room.id)]);
    const isLive = session?.status === 'live';
    return {
      id: room.id,
      title: room.title,
      cover_url: room.coverUrl,
      owner: { id: room.ownerId, username: owner?.username ?? null },
      is_live: isLive,
      status: session ? (session.status === 'live' ? 'live' : 'preparing') : 'idle',
      session_id: session?.id ?? null,
      viewers: room.viewersCount,
      online: 0,
      record: room.recordEnabled,
      play: isLive ? { ...playUrls(this.deps.config, room.id), token_url: `/api/v1/rooms/${room.id}/play-token` } : null,
    };
  }

  /** Drops the cached view; the next read rebuilds it. Called on every change of the room or its session. */
  async invalidate(roomId: string): Promise<void> {
    await this.deps.cache.del(cacheKeys.roomInfo(roomId));
  }

  async update(user: AuthUser, id: string, patch: { title?: string; coverUrl?: string | null; record?: boolean }): Promise<RoomView> {
    await this.getOwned(user, id);
    await this.deps.rooms.update(id, { title: patch.title, coverUrl: patch.coverUrl, recordEnabled: patch.record });
    await this.invalidate(id);
    return this.view(id);
  }

  async getStreamKey(user: AuthUser, id: string) {
    const room = await this.getOwned(user, id);
    return { streamKey: room.streamKey, revoked: room.streamKeyRevoked, pushUrl: pushUrl(this.deps.config, room.streamKey), serverUrl: rtmpServerUrl(this.deps.config) };
  }

  /**
   * A new key; the old one is refused from now on. A publisher still on the old key is kicked
   * (rotation usually means the key leaked); the show survives if the anchor reconnects with the
   * new key within the reconnect grace. A key an operator revoked (force close, severe audit) is
   * not the anchor's to replace: 409 stream_key_revoked; only an operator's restore lifts it.
   */
  async rotateStreamKey(user: AuthUser, id: string) {
    const room = await this.getOwned(user, id);
    if (room.streamKeyRevoked) {
      throw new ConflictError('the stream key was revoked by an operator; only an operator can restore the room', { code: 'stream_key_revoked' });
    }
    const streamKey = await this.replaceKey(room.id, { liftRevocation: false });
    const kicked = await this.kick(room.id);
    this.deps.log?.info({ roomId: room.id, kicked }, 'stream key rotated');
    return { streamKey, pushUrl: pushUrl(this.deps.config, streamKey), serverUrl: rtmpServerUrl(this.deps.config), kickedPublisher: kicked };
  }

  /** Operator side: the key stops working (force close, severe audit result). */
  async revokeStreamKey(roomId: string): Promise<void> {
    if (!(await this.deps.rooms.revokeStreamKey(roomId))) throw new NotFoundError('no such room', { code: 'room_not_found' });
    await this.invalidate(roomId);
    this.deps.log?.info({ roomId }, 'stream key revoked');
  }

  /**
   * Operator side: after a force close, gives the room a fresh, valid key (the revoked one stays
   * dead). The only way a revocation is lifted.
   */
  async restore(roomId: string): Promise<{ streamKey: string }> {
    await this.get(roomId);
    const streamKey = await this.replaceKey(roomId, { liftRevocation: true });
    this.deps.log?.info({ roomId }, 'room restored with a new stream key');
    return { streamKey };
  }

  private async replaceKey(roomId: string, options: { liftRevocation: boolean }): Promise<string> {
    const streamKey = newStreamKey();
    await this.deps.rooms.replaceStreamKey(roomId, streamKey, new Date(), options);
    await this.invalidate(roomId);
    return streamKey;
  }

  private async kick(roomId: string): Promise<boolean> {
    try {
      return await this.deps.media.kickPublisher(roomId);
    } catch (err) {
      this.deps.log?.warn({ err, roomId }, 'could not kick the publisher');
      return false;
    }
  }

  /** Live rooms: members of set:live:online, checked against the database (a stale member is skipped). */
  async listLive(limit = 100): Promise<RoomView[]> {
    const ids = (await this.deps.cache.sMembers(cacheKeys.liveOnline())).slice(0, 1000);
    const fromDb = ids.length ? await this.deps.rooms.findByIds(ids) : await this.deps.rooms.listLive(limit);
    const views = await Promise.all(fromDb.filter((r) => r.isLive).slice(0, limit).map((r) => this.view(r.id)));
    return views.filter((v) => v.is_live);
  }
}
