import { QueryTypes } from 'sequelize';
import type { Database } from '../../core/database/database.js';
import { ConflictError, DuplicateKeyError, NotFoundError } from '../../core/errors.js';

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

/** How names are compared: trimmed, lower case (the unique gifts.name_key, migration 0521). */
export const giftNameKey = (name: string): string => name.trim().toLowerCase();

const nameTaken = (name: string) => new ConflictError(`a gift is already called ${JSON.stringify(name.trim())} (names are compared trimmed and ignoring case, disabled gifts included)`, { code: 'gift_name_taken' });

/**
 * The gifts table (the catalog operators manage). No two gifts share a name, trimmed and ignoring
 * case, disabled ones included (a disabled gift can be enabled again): 409 gift_name_taken, on
 * create and on rename; the unique name_key makes it hold for two requests at once.
 */
export class GiftCatalogStore {
  constructor(private readonly db: Database) {}

  private select(sql: string, replacements: unknown[] = []): Promise<Row[]> {
    return this.db.sequelize.query<Row>(sql, { replacements, type: QueryTypes.SELECT });
  }

  async create(input: GiftInput): Promise<Gift> {
    const now = Date.now();
    const key = giftNameKey(input.name);
    if (await this.nameHolder(key)) throw nameTaken(input.name);
    let id: unknown;
    try {
      [id] = await this.db.sequelize.query(
        'INSERT INTO gifts (name, name_key, icon_url, price, animation_tier, enabled, sort_order, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
        { replacements: [input.name, key, input.iconUrl, input.price, input.animationTier, input.enabled, input.sortOrder, now, now], type: QueryTypes.INSERT },
      );
    } catch (err) {
      if (err instanceof DuplicateKeyError) throw nameTaken(input.name);
      throw err;
    }
    return (await this.find(String(id)))!;
  }

  async update(id: string, patch: Partial<GiftInput>): Promise<Gift> {
    const keys = (Object.keys(patch) as Array<keyof GiftInput>).filter((k) => patch[k] !== undefined);
    if (keys.length) {
      const sets = keys.map((k) => `${columns[k]} = ?`);
      const values: unknown[] = keys.map((k) => patch[k]);
      if (patch.name !== undefined) {
        const key = giftNameKey(patch.name);
        const holder = await this.nameHolder(key);
        if (holder !== null && holder !== id) throw nameTaken(patch.name);
        sets.push('name_key = ?');
        values.push(key);
      }
      try {
        await this.db.sequelize.query(`UPDATE gifts SET ${sets.join(', ')}, updated_at = ? WHERE id = ?`, { replacements: [...values, Date.now(), id] });
      } catch (err) {
        if (err instanceof DuplicateKeyError && patch.name !== undefined) throw nameTaken(patch.name);
        throw err;
      }
    }
    const gift = await this.find(id);
    if (!gift) throw new NotFoundError('no such gift', { code: 'gift_not_found' });
    return gift;
  }

  /** The id of the gift holding this name key, if any. */
  private async nameHolder(key: string): Promise<string | null> {
    const [row] = await this.db.sequelize.query<{ id: string | number }>('SELECT id FROM gifts WHERE name_key = ?', { replacements: [key], type: QueryTypes.SELECT });
    return row ? String(row.id) : null;
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
