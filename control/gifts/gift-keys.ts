/**
 * Cache keys of the gift feature (kept beside it; core/cache/keys.ts holds the seeds' own names).
 *   gift:combo:{room}:{sender}:{gift}   the open combo's id, expiring after the combo window
 *   gift:combo:n:{combo_id}             gifts in that combo so far
 *   zset:gift:rank:session:{session}    coins per sender in one show (the room's ranking)
 */
export const giftKeys = {
  combo: (roomId: string, senderId: string, giftId: string) => `gift:combo:${roomId}:${senderId}:${giftId}`,
  comboCount: (comboId: string) => `gift:combo:n:${comboId}`,
  sessionRanking: (sessionId: string) => `zset:gift:rank:session:${sessionId}`,
} as const;

/** A show's ranking outlives the show a while (the summary page); the orders table stays the record. */
export const RANKING_TTL_MS = 3 * 24 * 3600_000;
