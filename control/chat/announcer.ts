import type { ChatUser } from '../../core/chat/chat-protocol.js';
import type { Logger } from '../../core/logging/logger.js';
import type { PubSub } from '../../core/pubsub/pubsub.port.js';
import { roomChannel } from '../../core/pubsub/wire.js';

/** Names listed in one aggregated join/leave message ("alice, bob and 23 others joined"). */
const NAMES_PER_MESSAGE = 3;

interface Pending {
  join: ChatUser[];
  joinCount: number;
  leave: ChatUser[];
  leaveCount: number;
  likes: number;
  online: number | undefined;
  timer: NodeJS.Timeout | undefined;
  lastSent: number;
}

/**
 * Joins, leaves, likes and the online count of each room, aggregated per node and `windowMs` (likes
 * go to the show's counters, which broadcast `likes` totals): the
 * first event of a quiet room goes out at once, later ones in the same window are merged into one
 * message when it ends. A show that a thousand viewers enter in a second costs each socket one
 * `audience_join` a second, not a thousand. Each node's fan-out then holds these messages for the
 * room's next frame (control/chat/room-fanout.ts, ANNOUNCEMENT_DEFER_MS): they cost a full-room
 * write of their own only when the room is silent.
 */
export class Announcer {
  private readonly rooms = new Map<string, Pending>();

  constructor(
    private readonly pubsub: PubSub,
    private readonly log: Logger,
    private readonly windowMs = 1000,
    /** Where a window's likes go (the show's counters, control/discovery, which broadcasts the totals); dropped when absent. */
    private readonly likesSink?: (roomId: string, count: number) => Promise<unknown>,
  ) {}

  joined(roomId: string, user: ChatUser | null, online: number): void {
    const p = this.pending(roomId);
    p.joinCount++;
    if (user && p.join.length < NAMES_PER_MESSAGE) p.join.push(user);
    p.online = online;
    this.schedule(roomId, p);
  }

  left(roomId: string, user: ChatUser | null, online: number): void {
    const p = this.pending(roomId);
    p.leaveCount++;
    if (user && p.leave.length < NAMES_PER_MESSAGE) p.leave.push(user);
    p.online = online;
    this.schedule(roomId, p);
  }

  liked(roomId: string, count: number): void {
    const p = this.pending(roomId);
    p.likes += count;
    this.schedule(roomId, p);
  }

  private pending(roomId: string): Pending {
    let p = this.rooms.get(roomId);
    if (!p) {
      p = { join: [], joinCount: 0, leave: [], leaveCount: 0, likes: 0, online: undefined, timer: undefined, lastSent: 0 };
      this.rooms.set(roomId, p);
    }
    return p;
  }

  private schedule(roomId: string, p: Pending): void {
    if (p.timer) return;
    const wait = Math.max(0, p.lastSent + this.windowMs - Date.now());
    if (wait === 0) return this.send(roomId, p);
    p.timer = setTimeout(() => this.send(roomId, p), wait);
    p.timer.unref();
  }

  private send(roomId: string, p: Pending): void {
    p.timer = undefined;
    p.lastSent = Date.now();
    const out: Array<Record<string, unknown>> = [];
    if (p.joinCount > 0) out.push({ v: 1, type: 'audience_join', users: p.join, count: p.joinCount, online: p.online ?? null });
    if (p.leaveCount > 0) out.push({ v: 1, type: 'audience_leave', users: p.leave, count: p.leaveCount, online: p.online ?? null });
    if (p.online !== undefined) out.push({ v: 1, type: 'online', count: p.online });
    if (p.likes > 0 && this.likesSink) {
      this.likesSink(roomId, p.likes).catch((err: unknown) => this.log.warn({ err, roomId }, 'counting likes failed'));
    }
    p.join = [];
    p.joinCount = 0;
    p.leave = [];
    p.leaveCount = 0;
    p.likes = 0;
    p.online = undefined;
    for (const message of out) {
      this.pubsub.publish(roomChannel(roomId), message as never).catch((err: unknown) => this.log.warn({ err, roomId }, 'announcing to a room failed'));
    }
    // A room quiet for a window is forgotten (the map stays as large as the active rooms).
    setTimeout(() => {
      if (this.rooms.get(roomId) === p && !p.timer && Date.now() - p.lastSent >= this.windowMs) this.rooms.delete(roomId);
    }, this.windowMs * 2).unref();
  }

  close(): void {
    for (const p of this.rooms.values()) if (p.timer) clearTimeout(p.timer);
    this.rooms.clear();
  }
}
