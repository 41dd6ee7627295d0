import { DataTypes, QueryTypes } from 'sequelize';
import type { Migration } from '../database.js';

/** A gift's name as the catalog compares it: trimmed, lower case (GiftCatalogStore.create/update write it). */
export const giftNameKey = (name: string): string => name.trim().toLowerCase();

/**
 * One name per gift (POST/PATCH /admin/gifts: 409 gift_name_taken):
 *   gifts + name_key   the name trimmed and in lower case, unique (binary: the comparison is exactly
 *                      the lower-casing, the same on SQLite and MariaDB, not MariaDB's accent-blind collation)
 * Gifts already named alike keep their names: the oldest holds the key, the later ones get NULL (NULLs
 * never collide) until an operator renames them.
 */
export const up: Migration['up'] = async ({ queryInterface: q }) => {
  await q.addColumn('gifts', 'name_key', { type: DataTypes.STRING(64, true), allowNull: true });
  const rows = await q.sequelize.query<{ id: number | string; name: string }>('SELECT id, name FROM gifts ORDER BY id', { type: QueryTypes.SELECT });
  const taken = new Set<string>();
  for (const row of rows) {
    const key = giftNameKey(row.name);
    if (taken.has(key)) continue;
    taken.add(key);
    await q.sequelize.query('UPDATE gifts SET name_key = ? WHERE id = ?', { replacements: [key, row.id] });
  }
  await q.addIndex('gifts', ['name_key'], { name: 'gifts_name_key', unique: true });
};

export const down: Migration['down'] = async ({ queryInterface: q }) => {
  await q.removeIndex('gifts', 'gifts_name_key');
  await q.removeColumn('gifts', 'name_key');
};
