/** A live session (one row of live_streams). Ids are strings: session ids are 64-bit snowflakes. */
export type LiveStatus = 'preparing' | 'live' | 'ended';

/** Seed 000: 1 anchor closed, 2 operator force close, 3 stream cut (publisher gone past the grace) or reaper. */
export const CloseMethod = { anchor: 1, admin: 2, streamCut: 3 } as const;
export type CloseMethod = (typeof CloseMethod)[keyof typeof CloseMethod];

export interface LiveSession {
  id: string;
  roomId: string;
  anchorId: string;
  status: LiveStatus;
  startAt: Date | null;
  endAt: Date | null;
  durationS: number | null;
  closeMethod: CloseMethod | null;
  closeReason: string | null;
  pushExpiresAt: Date | null;
  peakViewers: number;
  createdAt: Date;
}
