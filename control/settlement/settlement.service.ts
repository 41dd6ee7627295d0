import { QueryTypes } from 'sequelize';
import type { Database } from '../../core/database/database.js';
import { liveAudienceTable } from '../../core/database/models/live-audience.model.js';
import { liveStatisticsTable } from '../../core/database/models/live-statistics.model.js';
import { liveStreamsTable } from '../../core/database/models/live-stream.model.js';
import { idString } from '../../core/database/models/define.js';
import type { Logger } from '../../core/logging/logger.js';

export interface LiveStatistics {
  sessionId: string;
  roomId: string;
  anchorId: string;
  durationS: number;
  peakViewers: number;
  totalViewers: number;
  /** Coins senders spent on gifts in the show. */
  giftAmount: number;
  /** The anchor's share of giftAmount (after the platform share). */
  giftIncome: number;
  /** Gifts sent (sum of the orders' counts). */
  giftCount: number;
  settledAt: Date;
}

/**
 * Settlement and statistics after a show (seed 000: 异步结算). `schedule()` queues the work with
 * setImmediate and returns at once: closing a show never waits for it. Settling twice rewrites the
 * same row (upsert by session id), so a retry or a replayed close is harmless.
 */
export class SettlementService {
  private readonly pending = new Set<Promise<void>>();
  private readonly streams;
  private readonly audience;
  private readonly statistics;

  constructor(db: Database, private readonly log?: Logger) {
    this.streams = liveStreamsTable(db.sequelize);
    this.audience = liveAudienceTable(db.sequelize);
    this.statistics = liveStatisticsTable(db.sequelize);
  }

  schedule(sessionId: string): void {
    const job = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.settle(sessionId))
      .then(() => undefined)
      .catch((err: unknown) => this.log?.error({ err, sessionId }, 'settlement failed'));
    this.pending.add(job);
    void job.finally(() => this.pending.delete(job));
  }

  /** Settlements scheduled and not finished yet. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Resolves when every scheduled settlement has finished (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  async settle(sessionId: string): Promise<LiveStatistics | null> {
    const session = await this.streams.findByPk(sessionId);
    if (!session || session.get('status') !== 'ended') return null;
    const s = session.get();
    // A viewer is a user when known (entered through the API, or a player with a token bound to the
    // user: its viewer key is the user id), else the player's viewer key: one user counts once.
    const [row] = await this.audience.sequelize!.query<{ n: number | string }>(
      'SELECT COUNT(DISTINCT COALESCE(CAST(user_id AS CHAR), viewer_key)) AS n FROM live_audience WHERE session_id = ?',
      { replacements: [sessionId], type: QueryTypes.SELECT },
    );
    const totalViewers = Number(row?.n ?? 0);
    // The show's gift orders (control/gifts): what viewers spent and what the anchor earned.
    const [gifts] = await this.streams.sequelize!.query<{ amount: string | number | null; income: string | number | null; gifts: string | number | null }>(
      "SELECT SUM(amount) AS amount, SUM(anchor_income) AS income, SUM(count) AS gifts FROM orders WHERE session_id = ? AND status = 'paid'",
      { replacements: [sessionId], type: QueryTypes.SELECT },
    );
    const stats: LiveStatistics = {
      sessionId,
      roomId: idString(s.room_id),
      anchorId: idString(s.anchor_id),
      durationS: Number(s.duration_s ?? 0),
      peakViewers: Number(s.peak_viewers ?? 0),
      totalViewers,
      giftAmount: Number(gifts?.amount ?? 0),
      giftIncome: Number(gifts?.income ?? 0),
      giftCount: Number(gifts?.gifts ?? 0),
      settledAt: new Date(),
    };
    await this.statistics.upsert({
      session_id: stats.sessionId, room_id: stats.roomId, anchor_id: stats.anchorId, duration_s: stats.durationS,
      peak_viewers: stats.peakViewers, total_viewers: stats.totalViewers, gift_amount: stats.giftAmount, settled_at: stats.settledAt,
      gift_income: stats.giftIncome, gift_count: stats.giftCount,
    });
    this.log?.info({ sessionId, durationS: stats.durationS, peakViewers: stats.peakViewers }, 'session settled');
    return stats;
  }

  async get(sessionId: string): Promise<LiveStatistics | null> {
    const m = await this.statistics.findByPk(sessionId);
    if (!m) return null;
    const r = m.get();
    return {
      sessionId: r.session_id, roomId: idString(r.room_id), anchorId: idString(r.anchor_id), durationS: Number(r.duration_s),
      peakViewers: Number(r.peak_viewers), totalViewers: Number(r.total_viewers), giftAmount: Number(r.gift_amount),
      giftIncome: Number(r.gift_income ?? 0), giftCount: Number(r.gift_count ?? 0), settledAt: r.settled_at,
    };
  }
}
