import { TurnBatcher } from '../../core/event-bus/turn-batcher.js';
import { Op } from 'sequelize';
import type { Database } from '../../core/database/database.js';
import { liveAudienceTable } from '../../core/database/models/live-audience.model.js';

/** live_audience: one row per viewing, opened at play start and closed at play end. */
export interface AudienceEntry { sessionId: string; roomId: string; userId: string | null; viewerKey: string; at: Date }
interface PendingEntry { input: AudienceEntry; resolve(): void; reject(err: unknown): void }

export class AudienceStore {
  private readonly table;
  /** Thousands of viewers can join in a second (a popular show starting): their rows go in batches. */
  private readonly entries = new TurnBatcher<PendingEntry>(500, (batch) => this.insert(batch));

  constructor(db: Database) {
    this.table = liveAudienceTable(db.sequelize);
  }

  /** Opens one row per viewing; viewers joining in the same event-loop turn share one multi-row INSERT. */
  enter(input: AudienceEntry): Promise<void> {
    return new Promise<void>((resolve, reject) => this.entries.push({ input, resolve, reject }));
  }

  private async insert(batch: PendingEntry[]): Promise<void> {
    try {
      await this.table.bulkCreate(batch.map(({ input }) => ({
        session_id: input.sessionId, room_id: input.roomId, user_id: input.userId, viewer_key: input.viewerKey.slice(0, 64), enter_at: input.at,
      })));
      for (const p of batch) p.resolve();
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }

  /** Closes the viewer's open row; returns the seconds watched, or null when no row was open. */
  async exit(viewerKey: string, at: Date): Promise<number | null> {
    const row = await this.table.findOne({ where: { viewer_key: viewerKey.slice(0, 64), exit_at: null }, order: [['id', 'DESC']] });
    if (!row) return null;
    const r = row.get();
    const watchS = Math.max(0, Math.round((at.getTime() - new Date(r.enter_at).getTime()) / 1000));
    await this.table.update({ exit_at: at, watch_s: watchS }, { where: { id: r.id, exit_at: { [Op.is]: null } } });
    return watchS;
  }

  async countViewers(sessionId: string): Promise<number> {
    return this.table.count({ where: { session_id: sessionId }, distinct: true, col: 'viewer_key' });
  }
}
