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
} as const;

/** TTLs the seeds set (seed 000, 性能优化): room info 30 min, hot ranking 10 min. */
export const cacheTtl = {
  roomInfo: 30 * 60_000,
  hotRooms: 10 * 60_000,
  callbackLock: 60_000,
} as const;
