import { roomChannel } from '../../core/pubsub/wire.js';
import type { Delivery, PubSub, Unsubscribe } from '../../core/pubsub/pubsub.port.js';
import type { Logger } from '../../core/logging/logger.js';
import { isEnvelope } from '../../core/chat/chat-protocol.js';
import { SharedFrame } from './shared-frame.js';

/** One socket of a room as the fan-out sees it (control/chat/chat-conn.ts). */
export interface RoomSocket {
  readonly userId: string | null;
  /** Unique per socket (any node): a `replaced` message names the socket that stays. */
  readonly socketKey: string;
  /** When the socket opened (ms): of two sockets of one user in one room, the newer stays. */
  readonly openedAt: number;
  /** A frame shared by every socket of the room (one JSON encoding and one WebSocket framing per turn), and the messages in it. */
  deliver(frame: SharedFrame, messages: readonly Envelope[]): void;
  /** Closes this socket (a kick, the session's end). */
  close(code: number, reason: string): void;
}

/** Room messages that close some user's sockets (the fan-out acts on them on every node). */
const BY_USER = new Set(['replaced', 'kicked', 'exited']);
const NONE: readonly RoomSocket[] = [];

/**
 * Room-state announcements (who came and went, the online count, the like totals): each is a
 * frame to every socket of the room, ~50-100 ms of one core at 5,000 sockets, and a chat message
 * that lands just after it waits for it (docs/benchmarks.md, "Live chat"). So they do not get a
 * write of their own: they wait for the room's next frame (the next chat message, or anything else
 * that is not one of these) and ride in it, and go out alone only when no such frame went out
 * within ANNOUNCEMENT_DEFER_MS. A room where chat flows at least once a second pays nothing for its
 * comings and goings; a silent room hears them at most this much later (nobody is waiting on them).
 */
const DEFERRED = new Set(['audience_join', 'audience_leave', 'online', 'likes']);
/** One announcer window (control/chat/announcer.ts): an announcement is at most one window later than it was. */
export const ANNOUNCEMENT_DEFER_MS = 1000;

export type Envelope = { v: 1; type: string; id?: string } & Record<string, unknown>;

interface Room {
  sockets: Set<RoomSocket>;
  /** The same sockets by user (kicks, exits and replacements find a user's sockets without a scan of the room). */
  byUser: Map<string, Set<RoomSocket>>;
  subscribed: Promise<Unsubscribe> | undefined;
  pending: Envelope[];
  /** A flush is due this turn (setImmediate). */
  scheduled: boolean;
  /** Only announcements are pending: they go out alone when this fires (ANNOUNCEMENT_DEFER_MS). */
  deferred: NodeJS.Timeout | undefined;
}

/**
 * Per node: the rooms whose sockets are here, each subscribed once to its pub/sub channel. What a
 * room's channel carries in one event-loop turn is encoded once, as one frame (a JSON array), and
 * the same bytes are written to every socket of the room: the cost per socket is a write, not a
 * JSON.stringify. Any `{v: 1, type}` object on the channel is forwarded as is, with `id` set to its
 * history id when it was kept (docs/chat-protocol.md, "Publishing into a room").
 */
export class RoomFanout {
  private readonly rooms = new Map<string, Room>();
  /** Frames built and socket writes, for metrics and the benchmark; writeMs: time spent encoding and writing frames (the server's share of delivery latency). */
  readonly counters = { frames: 0, deliveries: 0, writeMs: 0, maxWriteMs: 0 };

  constructor(private readonly pubsub: PubSub, private readonly log: Logger) {}

  /** Adds a socket; resolves once the node receives the room's channel. */
  async add(roomId: string, socket: RoomSocket): Promise<void> {
    let room = this.rooms.get(roomId);
    if (!room) {
      room = { sockets: new Set(), byUser: new Map(), subscribed: undefined, pending: [], scheduled: false, deferred: undefined };
      this.rooms.set(roomId, room);
      const r = room;
      room.subscribed = this.pubsub.subscribe(roomChannel(roomId), (d) => this.received(roomId, r, d));
      room.subscribed.catch((err: unknown) => {
        this.log.error({ err, roomId }, 'subscribing to a room channel failed');
        if (this.rooms.get(roomId) === r) this.rooms.delete(roomId);
      });
    }
    room.sockets.add(socket);
    if (socket.userId !== null) {
      let mine = room.byUser.get(socket.userId);
      if (!mine) room.byUser.set(socket.userId, (mine = new Set()));
      mine.add(socket);
    }
    await room.subscribed;
  }

  remove(roomId: string, socket: RoomSocket): void {
    const room = this.rooms.get(roomId);
    if (!room || !room.sockets.delete(socket)) return;
    if (socket.userId !== null) {
      const mine = room.byUser.get(socket.userId);
      if (mine?.delete(socket) && mine.size === 0) room.byUser.delete(socket.userId);
    }
    if (room.sockets.size > 0) return;
    this.rooms.delete(roomId);
    room.subscribed?.then((unsubscribe) => unsubscribe()).catch((err: unknown) => this.log.warn({ err, roomId }, 'unsubscribing a room channel failed'));
  }

  /** The sockets of `userId` in a room on this node. */
  socketsOfUser(roomId: string, userId: string): readonly RoomSocket[] {
    return [...(this.rooms.get(roomId)?.byUser.get(userId) ?? [])];
  }

  /** The users with a socket in a room on this node. */
  usersOf(roomId: string): IterableIterator<string> {
    return (this.rooms.get(roomId)?.byUser ?? new Map<string, never>()).keys();
  }

  /** The sockets of a room on this node. */
  socketsOf(roomId: string): ReadonlySet<RoomSocket> {
    return this.rooms.get(roomId)?.sockets ?? new Set();
  }

  roomIds(): IterableIterator<string> {
    return this.rooms.keys();
  }

  get socketCount(): number {
    let n = 0;
    for (const room of this.rooms.values()) n += room.sockets.size;
    return n;
  }

  private received(roomId: string, room: Room, delivery: Delivery): void {
    const message = delivery.message;
    if (!isEnvelope(message)) return;
    const envelope = (delivery.id === undefined ? message : { ...(message as Record<string, unknown>), id: delivery.id }) as Envelope;
    room.pending.push(envelope);
    if (room.scheduled) return;
    if (DEFERRED.has(envelope.type)) {
      // Rides in the room's next frame; alone at the deadline if none goes out before.
      if (!room.deferred) {
        room.deferred = setTimeout(() => this.flush(roomId, room), ANNOUNCEMENT_DEFER_MS);
        room.deferred.unref();
      }
      return;
    }
    room.scheduled = true;
    setImmediate(() => this.flush(roomId, room));
  }

  private flush(roomId: string, room: Room): void {
    room.scheduled = false;
    if (room.deferred) {
      clearTimeout(room.deferred);
      room.deferred = undefined;
    }
    const messages = room.pending;
    room.pending = [];
    if (messages.length === 0 || room.sockets.size === 0) return;
    // `replaced` is for the nodes, not the clients (one per socket opened: not worth a frame to everyone).
    const visible = messages.some((m) => m.type === 'replaced') ? messages.filter((m) => m.type !== 'replaced') : messages;
    if (visible.length > 0) {
      const started = performance.now();
      // Serialised and framed once per room and turn; every socket gets the same bytes.
      const frame = SharedFrame.of(visible);
      this.counters.frames++;
      for (const socket of room.sockets) {
        this.counters.deliveries++;
        socket.deliver(frame, visible);
      }
      const took = performance.now() - started;
      this.counters.writeMs += took;
      if (took > this.counters.maxWriteMs) this.counters.maxWriteMs = took;
    }
    // Moderation that reaches every node through the same channel: a kicked user's sockets close everywhere.
    for (const m of messages) {
      const user = typeof m.user_id === 'string' && BY_USER.has(m.type) ? [...(room.byUser.get(m.user_id) ?? [])] : NONE;
      if (m.type === 'replaced') {
        // One socket per viewer per room: the user's older sockets close, on every node (docs/chat-protocol.md).
        const opened = typeof m.opened_at === 'number' ? m.opened_at : 0;
        for (const socket of user) {
          if (socket.socketKey === m.socket) continue;
          if (socket.openedAt < opened || (socket.openedAt === opened && socket.socketKey < String(m.socket))) socket.close(4005, 'replaced');
        }
      } else if (m.type === 'kicked') {
        for (const socket of user) socket.close(4003, 'kicked');
      } else if (m.type === 'exited') {
        for (const socket of user) socket.close(1000, 'exited');
      } else if (m.type === 'notice' && (m.code === 'live_ended' || m.code === 'stream_paused')) {
        for (const socket of room.sockets) socket.close(4004, 'live ended');
      }
    }
    void roomId;
  }
}
