import { QueryTypes } from 'sequelize';
import type { Database } from '../../core/database/database.js';
import { NotFoundError } from '../../core/errors.js';

/** One gift of the catalog. price: coins per gift; animationTier: 0 none, 1 small, 2 banner, 3 full screen. */
export interface Gift {
  id: string;
  name: string;
  iconUrl: string | null;
  price: number;
  animationTier: number;
  enabled: boolean;
  sortOrder: number;
  createdAt: number;
  updatedAt: number;
}

export type GiftInput = Pick<Gift, 'name' | 'iconUrl' | 'price' | 'animationTier' | 'enabled' | 'sortOrder'>;

interface Row {
  id: string | number; name: string; icon_url: string | null; price: string | number; animation_tier: string | number;
  enabled: number | boolean | string; sort_order: string | number; created_at: string | number; updated_at: string | number;
}
const toGift = (r: Row): Gift => ({
  id: String(r.id), name: r.name, iconUrl: r.icon_url, price: Number(r.price), animationTier: Number(r.animation_tier),
  enabled: Boolean(Number(r.enabled)), sortOrder: Number(r.sort_order), createdAt: Number(r.created_at), updatedAt: Number(r.updated_at),
});

const columns: Record<keyof GiftInput, string> = {
  name: 'name', iconUrl: 'icon_url', price: 'price', animationTier: 'animation_tier', enabled: 'enabled', sortOrder: 'sort_order',
};

/** The gifts table (the catalog operators manage). */
export class GiftCatalogStore {
  constructor(private readonly db: Database) {}

  private select(sql: string, replacements: unknown[] = []): Promise<Row[]> {
    return this.db.sequelize.query<Row>(sql, { replacements, type: QueryTypes.SELECT });
  }

  async create(input: GiftInput): Promise<Gift> {
    const now = Date.now();
    const [id] = await this.db.sequelize.query(
      'INSERT INTO gifts (name, icon_url, price, animation_tier, enabled, sort_order, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      { replacements: [input.name, input.iconUrl, input.price, input.animationTier, input.enabled, input.sortOrder, now, now], type: QueryTypes.INSERT },
    );
    return (await this.find(String(id)))!;
  }

  async update(id: string, patch: Partial<GiftInput>): Promise<Gift> {
    const keys = (Object.keys(patch) as Array<keyof GiftInput>).filter((k) => patch[k] !== undefined);
    if (keys.length) {
      await this.db.sequelize.query(
        `UPDATE gifts SET ${keys.map((k) => `${columns[k]} = ?`).join(', ')}, updated_at = ? WHERE id = ?`,
        { replacements: [...keys.map((k) => patch[k]), Date.now(), id] },
      );
    }
    const gift = await this.find(id);
    if (!gift) throw new NotFoundError('no such gift', { code: 'gift_not_found' });
    return gift;
  }

  async find(id: string): Promise<Gift | null> {
    if (!/^\d{1,19}$/.test(id)) return null;
    const [row] = await this.select('SELECT * FROM gifts WHERE id = ?', [id]);
    return row ? toGift(row) : null;
  }

  /** The catalog in display order; only enabled gifts unless `all`. */
  async list(options: { all: boolean }): Promise<Gift[]> {
    const rows = await this.select(`SELECT * FROM gifts${options.all ? '' : ' WHERE enabled = ?'} ORDER BY sort_order, price, id`, options.all ? [] : [true]);
    return rows.map(toGift);
  }
}
