import type { Cache } from '../../core/cache/cache.port.js';
import { cacheKeys } from '../../core/cache/keys.js';
import type { LiveSession } from './live-session.js';

/**
 * The seed's Redis keys for live state, written only here:
 * - set:live:online                 room ids that are live now
 * - hash:anchor:status:{anchor_id}  {status, room_id, session_id, since, publisher_id, last_heartbeat}: the anchor's
 *                                   most recently started show; TTL refreshed by that show's heartbeats
 * - temp:live:{session_id}          {room_id, anchor_id, status, publisher_id, push_expires_at, last_heartbeat}: each
 *                                   session's own state and heartbeat
 * - count:live:online:{room_id}     viewers now (from media stats)
 *
 * An anchor may be live in several rooms at once. The anchor hash names one session, so only that
 * session changes or deletes it; everything that decides about a session (the reaper, the grace)
 * reads the session's own temp:live hash. (The anchor hash used to be overwritten by a second show,
 * and the reaper then ended the first, healthy one.)
 */
export class LiveStateCache {
  constructor(private readonly cache: Cache, private readonly ttl: { anchorStatusMs: number; tempMs: number }) {}

  async prepared(session: LiveSession): Promise<void> {
    const key = cacheKeys.liveTemp(session.id);
    await this.cache.hSet(key, {
      room_id: session.roomId,
      anchor_id: session.anchorId,
      status: session.status,
      push_expires_at: session.pushExpiresAt ? String(session.pushExpiresAt.getTime()) : '',
    });
    await this.cache.expire(key, this.ttl.tempMs);
  }

  async publisherAttached(session: LiveSession, publisherId: string, at: number): Promise<void> {
    await this.cache.sAdd(cacheKeys.liveOnline(), session.roomId);
    const status = cacheKeys.anchorStatus(session.anchorId);
    await this.cache.hSet(status, {
      status: 'live', room_id: session.roomId, session_id: session.id, since: String(session.startAt?.getTime() ?? at),
      publisher_id: publisherId, last_heartbeat: String(at),
    });
    await this.cache.expire(status, this.ttl.anchorStatusMs);
    const temp = cacheKeys.liveTemp(session.id);
    await this.cache.hSet(temp, { room_id: session.roomId, anchor_id: session.anchorId, status: 'live', publisher_id: publisherId, last_heartbeat: String(at) });
    await this.cache.expire(temp, this.ttl.tempMs);
  }

  /** The publisher dropped: the session waits in its reconnect grace, still listed as live. */
  async publisherDetached(session: LiveSession, at: number): Promise<void> {
    const temp = cacheKeys.liveTemp(session.id);
    await this.cache.hDel(temp, 'publisher_id');
    await this.cache.hSet(temp, { detached_at: String(at) });
    if (await this.namesSession(session)) await this.cache.hSet(cacheKeys.anchorStatus(session.anchorId), { status: 'reconnecting' });
  }

  /** True when the anchor hash describes this session (or describes none). */
  private async namesSession(session: LiveSession): Promise<boolean> {
    const named = (await this.cache.hGetAll(cacheKeys.anchorStatus(session.anchorId))).session_id;
    return named === undefined || named === session.id;
  }

  /** The publisher currently attached to the session, if any. */
  async publisherOf(sessionId: string): Promise<string | null> {
    return (await this.cache.hGetAll(cacheKeys.liveTemp(sessionId))).publisher_id ?? null;
  }

  async heartbeat(session: LiveSession, at: number, viewers: number): Promise<void> {
    if (await this.namesSession(session)) {
      // Also rebuilds the hash after the anchor's newer show ended while this one runs on.
      const status = cacheKeys.anchorStatus(session.anchorId);
      await this.cache.hSet(status, {
        status: 'live', room_id: session.roomId, session_id: session.id, since: String(session.startAt?.getTime() ?? at), last_heartbeat: String(at),
      });
      await this.cache.expire(status, this.ttl.anchorStatusMs);
    }
    const temp = cacheKeys.liveTemp(session.id);
    await this.cache.hSet(temp, { last_heartbeat: String(at) });
    await this.cache.expire(temp, this.ttl.tempMs);
    await this.cache.set(cacheKeys.roomOnlineCount(session.roomId), String(viewers), this.ttl.anchorStatusMs);
  }

  async ended(session: LiveSession): Promise<void> {
    await this.cache.sRem(cacheKeys.liveOnline(), session.roomId);
    if (await this.namesSession(session)) await this.cache.del(cacheKeys.anchorStatus(session.anchorId));
    await this.cache.del(
      cacheKeys.liveTemp(session.id),
      cacheKeys.roomOnlineCount(session.roomId),
      cacheKeys.roomInfo(session.roomId),
    );
  }
}
