import type { Cache } from '../../core/cache/cache.port.js';
import { audienceKeys } from '../../core/cache/keys.js';

/**
 * Chat messages per minute per room, for the supervision wall, across every control node: each
 * accepted post adds one to its room in a sorted set per 10-second slot (shared cache), and the
 * wall sums the current slot and the five before it (the last 50 to 60 seconds). Two cache
 * commands per post, run alongside the publish; six reads per wall refresh whatever the rooms.
 */
const SLOT_MS = 10_000;
const SLOTS = 6;

export async function countChatPost(cache: Cache, roomId: string, now = Date.now()): Promise<void> {
  const key = audienceKeys.chatRate(Math.floor(now / SLOT_MS));
  await cache.zIncrBy(key, 1, roomId);
  await cache.expire(key, (SLOTS + 1) * SLOT_MS);
}

/** Room id → messages in the last minute (rooms without any are absent). */
export async function chatPerMinute(cache: Cache, now = Date.now()): Promise<Map<string, number>> {
  const slot = Math.floor(now / SLOT_MS);
  const slots = await Promise.all(Array.from({ length: SLOTS }, (_, i) => cache.zRevRange(audienceKeys.chatRate(slot - i), 0, -1)));
  const rates = new Map<string, number>();
  for (const entries of slots) for (const { member, score } of entries) rates.set(member, (rates.get(member) ?? 0) + score);
  return rates;
}
