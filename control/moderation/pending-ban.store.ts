import { DuplicateKeyError } from '../../core/errors.js';
import type { Database } from '../../core/database/database.js';
import { pendingBansTable, type PendingBanModel, type PendingBanStatus } from '../../core/database/models/pending-ban.model.js';
import { idString } from '../../core/database/models/define.js';

export type { PendingBanStatus };

export interface PendingBan {
  id: string;
  /** The audit event's identity: one pending ban per verdict, however often the vendor re-sends it. */
  identity: string;
  userId: string;
  roomId: string | null;
  sessionId: string | null;
  reason: string;
  evidenceUrl: string | null;
  /** The timed ban that paused the stream meanwhile (lifted again when the ban is dismissed). */
  pauseBanId: string | null;
  status: PendingBanStatus;
  decidedBy: string | null;
  decidedAt: Date | null;
  createdAt: Date;
}

export interface NewPendingBan {
  identity: string;
  userId: string;
  roomId: string | null;
  sessionId: string | null;
  reason: string;
  evidenceUrl: string | null;
  pauseBanId: string | null;
}

const optionalId = (v: string | number | null) => (v === null ? null : idString(v));

function toPendingBan(m: PendingBanModel): PendingBan {
  const r = m.get();
  return {
    id: idString(r.id), identity: r.identity, userId: idString(r.user_id), roomId: optionalId(r.room_id), sessionId: r.session_id,
    reason: r.reason, evidenceUrl: r.evidence_url, pauseBanId: optionalId(r.pause_ban_id), status: r.status,
    decidedBy: optionalId(r.decided_by), decidedAt: r.decided_at === null ? null : new Date(Number(r.decided_at)),
    createdAt: new Date(Number(r.created_at)),
  };
}

/** pending_bans, speaking domain types. Decisions are conditional updates: a ban is decided once. */
export class PendingBanStore {
  private readonly table;
  constructor(db: Database) {
    this.table = pendingBansTable(db.sequelize);
  }

  /** Queues a ban; a second call with the same identity returns the first row. */
  async add(input: NewPendingBan, now: Date): Promise<PendingBan> {
    try {
      const m = await this.table.create({
        identity: input.identity, user_id: input.userId, room_id: input.roomId, session_id: input.sessionId,
        reason: input.reason.slice(0, 512), evidence_url: input.evidenceUrl?.slice(0, 1024) ?? null, pause_ban_id: input.pauseBanId,
        status: 'pending', created_at: now.getTime(),
      });
      return toPendingBan(m);
    } catch (err) {
      if (!(err instanceof DuplicateKeyError)) throw err;
      const existing = await this.table.findOne({ where: { identity: input.identity } });
      if (!existing) throw err;
      return toPendingBan(existing);
    }
  }

  async findById(id: string): Promise<PendingBan | null> {
    if (!/^\d{1,19}$/.test(id)) return null;
    const m = await this.table.findByPk(id);
    return m ? toPendingBan(m) : null;
  }

  /** Newest first; `status` undefined lists every status. */
  async list(options: { status?: PendingBanStatus; limit: number }): Promise<PendingBan[]> {
    const rows = await this.table.findAll({
      where: options.status ? { status: options.status } : {}, order: [['id', 'DESC']], limit: options.limit,
    });
    return rows.map(toPendingBan);
  }

  /** confirmed/dismissed -> pending again (a decision whose effect could not be applied). */
  async reopen(id: string, from: Exclude<PendingBanStatus, 'pending'>): Promise<boolean> {
    const [n] = await this.table.update({ status: 'pending', decided_by: null, decided_at: null }, { where: { id, status: from } });
    return n > 0;
  }

  /** pending -> confirmed/dismissed. False when it was no longer pending (decided by someone else). */
  async decide(id: string, status: Exclude<PendingBanStatus, 'pending'>, by: string, at: Date): Promise<boolean> {
    const [n] = await this.table.update({ status, decided_by: by, decided_at: at.getTime() }, { where: { id, status: 'pending' } });
    return n > 0;
  }
}
