import { Op } from 'sequelize';
import type { Database } from '../../core/database/database.js';
import { liveAudienceTable } from '../../core/database/models/live-audience.model.js';

/** live_audience: one row per viewing, opened at play start and closed at play end. */
export class AudienceStore {
  private readonly table;
  constructor(db: Database) {
    this.table = liveAudienceTable(db.sequelize);
  }

  async enter(input: { sessionId: string; roomId: string; userId: string | null; viewerKey: string; at: Date }): Promise<void> {
    await this.table.create({
      session_id: input.sessionId, room_id: input.roomId, user_id: input.userId, viewer_key: input.viewerKey.slice(0, 64), enter_at: input.at,
    });
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
