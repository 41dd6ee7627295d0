import { DataTypes } from 'sequelize';
import type { Migration } from '../database.js';

/**
 * Issue 14 (operator console, ser-blive). Pins live in discovery's room_pins (0301).
 *   conventions  the platform's room rules (直播间公约), one row per edit; the newest is in force,
 *                the older rows are the edit history
 */
const ms = { type: DataTypes.BIGINT, allowNull: false };

export const up: Migration['up'] = async ({ queryInterface: q }) => {
  await q.createTable('conventions', {
    id: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true },
    body: { type: DataTypes.TEXT, allowNull: false },
    updated_by: { type: DataTypes.BIGINT, allowNull: true },
    created_at: ms,
  });
};

export const down: Migration['down'] = async ({ queryInterface: q }) => {
  await q.dropTable('conventions');
};
