/**
 * The cache port: what the domain needs from Redis, and nothing more. Two adapters implement it:
 * MemoryCache (in-process, `npm start`) and RedisCache (ioredis, when ONAIR_REDIS_URL is set).
 * cache.contract.ts runs the same suite against both.
 *
 * Keys are the seed's names (see keys.ts): set:live:online, hash:anchor:status:{anchor_id},
 * lock:callback:{sequence}, temp:live:{stream_id}, live:kick:{room_id}:{uid}, online counts.
 * TTLs are in milliseconds; a key without a TTL lives until deleted.
 */
export interface Cache {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlMs?: number): Promise<void>;
  /** Sets only when absent (a lock); true when this call took it. */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  del(...keys: string[]): Promise<number>;
  exists(key: string): Promise<boolean>;
  expire(key: string, ttlMs: number): Promise<boolean>;
  /** Remaining TTL in ms; -1 without TTL, -2 when the key is missing. */
  ttl(key: string): Promise<number>;

  incrBy(key: string, by: number): Promise<number>;

  sAdd(key: string, ...members: string[]): Promise<number>;
  sRem(key: string, ...members: string[]): Promise<number>;
  sMembers(key: string): Promise<string[]>;
  sIsMember(key: string, member: string): Promise<boolean>;
  sCard(key: string): Promise<number>;

  hSet(key: string, fields: Record<string, string>): Promise<void>;
  hGetAll(key: string): Promise<Record<string, string>>;
  hDel(key: string, ...fields: string[]): Promise<number>;

  /** Sorted sets: hot-room ranking, chat presence (score = expiry ms). */
  zIncrBy(key: string, by: number, member: string): Promise<number>;
  /** Sets each member's score (added or updated, one command); returns how many were new. */
  zAdd(key: string, entries: ReadonlyArray<{ member: string; score: number }>): Promise<number>;
  /** Members whose score is within [min, max] (inclusive; ±Infinity allowed), lowest score first. */
  zRangeByScore(key: string, min: number, max: number): Promise<string[]>;
  zRevRange(key: string, start: number, stop: number): Promise<Array<{ member: string; score: number }>>;
  zRem(key: string, ...members: string[]): Promise<number>;

  close(): Promise<void>;
}
