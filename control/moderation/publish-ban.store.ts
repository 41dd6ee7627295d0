import { Op } from 'sequelize';
import type { Database } from '../../core/database/database.js';
import { publishBansTable, type PublishBanModel } from '../../core/database/models/publish-ban.model.js';
import { idString } from '../../core/database/models/define.js';

export interface PublishBan {
  id: string;
  userId: string;
  /** null = permanent. */
  until: Date | null;
  reason: string;
  createdBy: string | null;
  createdAt: Date;
}

function toBan(m: PublishBanModel): PublishBan {
  const r = m.get();
  return {
    id: idString(r.id), userId: idString(r.user_id), until: r.until, reason: r.reason,
    createdBy: r.created_by === null ? null : idString(r.created_by), createdAt: r.created_at,
  };
}

/** publish_bans, speaking domain types. A ban is active while not lifted and until is null or in the future. */
export class PublishBanStore {
  private readonly table;
  constructor(db: Database) {
    this.table = publishBansTable(db.sequelize);
  }

  async add(input: { userId: string; until: Date | null; reason: string; createdBy: string | null }): Promise<PublishBan> {
    const m = await this.table.create({ user_id: input.userId, until: input.until, reason: input.reason, created_by: input.createdBy });
    return toBan(m);
  }

  async active(userId: string, now: Date): Promise<PublishBan | null> {
    const m = await this.table.findOne({
      where: { user_id: userId, lifted_at: null, [Op.or]: [{ until: null }, { until: { [Op.gt]: now } }] },
      order: [['id', 'DESC']],
    });
    return m ? toBan(m) : null;
  }

  async findById(id: string): Promise<PublishBan | null> {
    const m = await this.table.findByPk(id);
    return m ? toBan(m) : null;
  }

  /** Lifts one ban if it is still active; true when it was. */
  async liftById(id: string, now: Date): Promise<boolean> {
    const [n] = await this.table.update({ lifted_at: now }, {
      where: { id, lifted_at: null, [Op.or]: [{ until: null }, { until: { [Op.gt]: now } }] },
    });
    return n > 0;
  }

  /** Lifts every active ban of the user; returns how many. */
  async lift(userId: string, now: Date): Promise<number> {
    const [n] = await this.table.update({ lifted_at: now }, {
      where: { user_id: userId, lifted_at: null, [Op.or]: [{ until: null }, { until: { [Op.gt]: now } }] },
    });
    return n;
  }
}
