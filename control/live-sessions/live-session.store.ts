import { Op } from 'sequelize';
import type { Database } from '../../core/database/database.js';
import { liveStreamsTable, type LiveStreamModel } from '../../core/database/models/live-stream.model.js';
import { idString } from '../../core/database/models/define.js';
import type { CloseMethod, LiveSession, LiveStatus } from './live-session.js';

function toSession(m: LiveStreamModel): LiveSession {
  const r = m.get();
  return {
    id: String(r.id),
    roomId: idString(r.room_id),
    anchorId: idString(r.anchor_id),
    status: r.status,
    startAt: r.start_at,
    endAt: r.end_at,
    durationS: r.duration_s === null ? null : Number(r.duration_s),
    closeMethod: r.close_method === null ? null : (Number(r.close_method) as CloseMethod),
    closeReason: r.close_reason,
    pushExpiresAt: r.push_expires_at,
    peakViewers: Number(r.peak_viewers),
    createdAt: r.created_at,
  };
}

/** live_streams, speaking domain types. Transitions are conditional updates, so replays are harmless. */
export class LiveSessionStore {
  private readonly table;
  constructor(db: Database) {
    this.table = liveStreamsTable(db.sequelize);
  }

  async create(input: { id: string; roomId: string; anchorId: string; pushExpiresAt: Date | null }): Promise<LiveSession> {
    const m = await this.table.create({
      id: input.id, room_id: input.roomId, anchor_id: input.anchorId, status: 'preparing', push_expires_at: input.pushExpiresAt,
    });
    return toSession(m);
  }

  async findById(id: string): Promise<LiveSession | null> {
    if (!/^\d{1,24}$/.test(id)) return null;
    const m = await this.table.findByPk(id);
    return m ? toSession(m) : null;
  }

  /** The room's preparing or live session, if any (the newest, should there ever be two). */
  async findActiveByRoom(roomId: string): Promise<LiveSession | null> {
    const m = await this.table.findOne({
      where: { room_id: roomId, status: { [Op.in]: ['preparing', 'live'] } },
      order: [['created_at', 'DESC']],
    });
    return m ? toSession(m) : null;
  }

  async findActiveByAnchor(anchorId: string): Promise<LiveSession[]> {
    return (await this.table.findAll({ where: { anchor_id: anchorId, status: { [Op.in]: ['preparing', 'live'] } } })).map(toSession);
  }

  async listByStatus(status: LiveStatus, limit = 1000): Promise<LiveSession[]> {
    return (await this.table.findAll({ where: { status }, order: [['created_at', 'ASC']], limit })).map(toSession);
  }

  /** A preparing session got a new push URL: it may wait for its publisher until `at`. */
  async extendPush(id: string, at: Date): Promise<void> {
    await this.table.update({ push_expires_at: at }, { where: { id, status: 'preparing' } });
  }

  /** preparing -> live (or already live). True when this call changed the row. */
  async markLive(id: string, startAt: Date): Promise<boolean> {
    const [n] = await this.table.update({ status: 'live', start_at: startAt }, { where: { id, status: 'preparing' } });
    return n > 0;
  }

  /** Ends a session unless it already ended. True when this call ended it. */
  async markEnded(id: string, end: { endAt: Date; durationS: number; closeMethod: CloseMethod; closeReason: string | null }): Promise<boolean> {
    const [n] = await this.table.update({
      status: 'ended', end_at: end.endAt, duration_s: end.durationS, close_method: end.closeMethod,
      close_reason: end.closeReason?.slice(0, 512) ?? null,
    }, { where: { id, status: { [Op.ne]: 'ended' } } });
    return n > 0;
  }

  async raisePeakViewers(id: string, viewers: number): Promise<void> {
    await this.table.update({ peak_viewers: viewers }, { where: { id, peak_viewers: { [Op.lt]: viewers } } });
  }
}
