/** The cache keys the seeds name. Build keys only here, so every adapter and role agrees. */
export const cacheKeys = {
  liveOnline: () => 'set:live:online',
  anchorStatus: (anchorId: string | number) => `hash:anchor:status:${anchorId}`,
  callbackLock: (sequence: string) => `lock:callback:${sequence}`,
  liveTemp: (streamId: string) => `temp:live:${streamId}`,
  kick: (roomId: string | number, uid: string | number) => `live:kick:${roomId}:${uid}`,
  roomOnlineCount: (roomId: string | number) => `count:live:online:${roomId}`,
  roomInfo: (roomId: string | number) => `cache:room:${roomId}`,
  hotRooms: () => 'zset:live:hot',
  /** Held between an allowed publish and its publish.started, so two encoders cannot both be let in. */
  publishClaim: (roomId: string | number) => `lock:publish:${roomId}`,
  /** Set by POST /live/close for ONAIR_LIVE_CLOSE_HOLD: the room's publishes are refused (show_ended_by_anchor). */
  closeHold: (roomId: string | number) => `live:closed:${roomId}`,
  /** A notification socket ticket, by its SHA-256 (the ticket itself is never stored). */
  notifyTicket: (sha256Hex: string) => `ticket:notify:${sha256Hex}`,
} as const;

/** TTLs the seeds set (seed 000, 性能优化): room info 30 min, hot ranking 10 min. */
export const cacheTtl = {
  roomInfo: 30 * 60_000,
  hotRooms: 10 * 60_000,
  callbackLock: 60_000,
} as const;

/** Keys of the room audience (control/audience/presence.ts) and live chat (control/chat). */
export const audienceKeys = {
  /** Who is in the room: user ids, and `anon:{node}:{n}` for anonymous sockets. */
  members: (roomId: string | number) => `set:live:audience:${roomId}`,
  /** The room's online count (seed 000: Redis INCR, one counter per room); kept equal to the members. */
  online: (roomId: string | number) => `count:live:audience:${roomId}`,
  /**
   * The room's heartbeats: a sorted set of members scored by when their presence expires
   * (`chat.heartbeatTimeout` after the last heartbeat of any of their sockets). One ZADD refreshes
   * all of a node's members of a room, one ZRANGEBYSCORE finds the live ones.
   */
  presence: (roomId: string | number) => `zset:live:presence:${roomId}`,
  /** Rooms that have members, for the sweeper. */
  rooms: () => 'set:live:audience:rooms',
  /** When the member entered (epoch ms), for watch time. */
  enteredAt: (roomId: string | number) => `hash:live:entered:${roomId}`,
  /** Distinct users who entered a session. */
  unique: (sessionId: string) => `set:live:unique:${sessionId}`,
  mute: (roomId: string | number, uid: string | number) => `live:mute:${roomId}:${uid}`,
  /** Slow mode of a room: the minimum seconds between two posts of one user. */
  slowMode: (roomId: string | number) => `live:slow:${roomId}`,
  slowPost: (roomId: string | number, uid: string | number) => `live:slow:${roomId}:${uid}`,
  /**
   * Moderation pauses whose end the room's chat must announce (`stream_resumed`): field
   * `{roomId}|{until ms}`, value the room id. The node whose HDEL removes a due field announces it.
   */
  pausesDue: () => 'hash:live:pauses:due',
  /** Accepted chat and danmaku posts in one 10-second slot (epoch ms / 10 000), scored per room id; for the wall's chat rate. */
  chatRate: (slot: number) => `zset:live:chat:rate:${slot}`,
} as const;
