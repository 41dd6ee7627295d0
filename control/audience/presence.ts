import type { Cache } from '../../core/cache/cache.port.js';
import { audienceKeys } from '../../core/cache/keys.js';

export interface Membership {
  /** True when this call changed membership (a first join, or the leave that removed the member). */
  changed: boolean;
  online: number;
}

/**
 * Who is in a room, shared by every control node through the cache (Redis in a cluster):
 *
 * - a members set per room and an online counter per room (INCR/DECR only when the set changed,
 *   so a second join or a second leave of the same member never moves the count);
 * - a presence sorted set per room, each member scored by when its presence expires: `ttlMs`
 *   after the last heartbeat of any of the member's sockets (every node refreshes its own sockets'
 *   members with one ZADD per room, so a heartbeat costs one command per room, not per socket);
 * - sweep(): any node may remove members whose presence expired (a closed app, a dead node). The
 *   set removal is atomic, so exactly one node sees `changed` and announces the leave.
 *
 * The online count therefore equals the members with a live socket within one heartbeat timeout.
 */
export class Presence {
  /**
   * Per room, the counter's drift this node saw at its last sweep. A join or leave updates the set
   * first and the counter next, so a sweep that reads between the two sees a drift that the
   * pending write is about to fix: the counter is repaired only when the same drift is seen on two
   * sweeps in a row (a node that died between its two writes), never on one reading.
   */
  private readonly drift = new Map<string, number>();

  constructor(private readonly cache: Cache, private readonly ttlMs: number) {}

  async join(roomId: string, member: string, at = Date.now()): Promise<Membership> {
    await this.touch(roomId, [member], at);
    const added = await this.cache.sAdd(audienceKeys.members(roomId), member);
    if (added === 0) return { changed: false, online: await this.online(roomId) };
    await this.cache.sAdd(audienceKeys.rooms(), roomId);
    await this.cache.hSet(audienceKeys.enteredAt(roomId), { [member]: String(at) });
    return { changed: true, online: Math.max(0, await this.cache.incrBy(audienceKeys.online(roomId), 1)) };
  }

  /** Removes the member; `enteredAt` is when they joined (null when they were not in the room). */
  async leave(roomId: string, member: string): Promise<Membership & { enteredAt: number | null }> {
    await this.cache.zRem(audienceKeys.presence(roomId), member);
    const removed = await this.cache.sRem(audienceKeys.members(roomId), member);
    if (removed === 0) return { changed: false, online: await this.online(roomId), enteredAt: null };
    const entered = (await this.cache.hGetAll(audienceKeys.enteredAt(roomId)))[member];
    await this.cache.hDel(audienceKeys.enteredAt(roomId), member);
    const online = Math.max(0, await this.cache.incrBy(audienceKeys.online(roomId), -1));
    return { changed: true, online, enteredAt: entered ? Number(entered) : null };
  }

  async isMember(roomId: string, member: string): Promise<boolean> {
    return this.cache.sIsMember(audienceKeys.members(roomId), member);
  }

  /** Heartbeat of members whose sockets are open on this node. */
  async refresh(roomId: string, members: Iterable<string>, at = Date.now()): Promise<void> {
    await this.touch(roomId, [...members], at);
  }

  private async touch(roomId: string, members: string[], at: number): Promise<void> {
    const key = audienceKeys.presence(roomId);
    const score = at + this.ttlMs;
    // Bounded commands: a ZADD of at most 1,000 members at a time.
    for (let i = 0; i < members.length; i += 1000) {
      await this.cache.zAdd(key, members.slice(i, i + 1000).map((member) => ({ member, score })));
    }
    // The set of a room nobody heartbeats any more goes away by itself.
    await this.cache.expire(key, this.ttlMs * 2);
  }

  async online(roomId: string): Promise<number> {
    return Math.max(0, Number((await this.cache.get(audienceKeys.online(roomId))) ?? 0));
  }

  /**
   * Removes every member whose presence expired; calls `onLeft` for each member this node removed.
   * Also repairs the counter when it drifted from the set (a node died between the two writes),
   * once two sweeps in a row saw the same drift.
   */
  async sweep(onLeft: (roomId: string, member: string, online: number, enteredAt: number | null) => Promise<void>): Promise<number> {
    let removed = 0;
    const seen = new Set<string>();
    for (const roomId of await this.cache.sMembers(audienceKeys.rooms())) {
      const members = await this.cache.sMembers(audienceKeys.members(roomId));
      // Two commands per room, whatever its size: the members, and those whose presence has not expired.
      const live = new Set(await this.cache.zRangeByScore(audienceKeys.presence(roomId), Date.now(), Infinity));
      for (let i = 0; i < members.length; i++) {
        if (live.has(members[i]!)) continue;
        const left = await this.leave(roomId, members[i]!);
        if (!left.changed) continue;
        removed++;
        await onLeft(roomId, members[i]!, left.online, left.enteredAt);
      }
      const size = await this.cache.sCard(audienceKeys.members(roomId));
      if (size === 0) await this.cache.sRem(audienceKeys.rooms(), roomId);
      const online = await this.online(roomId);
      const drift = size - online;
      if (drift !== 0 && this.drift.get(roomId) === drift) {
        await this.cache.incrBy(audienceKeys.online(roomId), drift);
        this.drift.delete(roomId);
      } else if (drift !== 0) {
        this.drift.set(roomId, drift);
      } else {
        this.drift.delete(roomId);
      }
      seen.add(roomId);
    }
    for (const roomId of this.drift.keys()) if (!seen.has(roomId)) this.drift.delete(roomId);
    return removed;
  }
}
