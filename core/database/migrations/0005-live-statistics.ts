import { DataTypes } from 'sequelize';
import type { Migration } from '../database.js';

/** live_statistics: one settlement row per ended session, written asynchronously after close. */
export const up: Migration['up'] = async ({ queryInterface }) => {
  await queryInterface.createTable('live_statistics', {
    session_id: { type: DataTypes.STRING(24), primaryKey: true },
    room_id: { type: DataTypes.BIGINT, allowNull: false },
    anchor_id: { type: DataTypes.BIGINT, allowNull: false },
    duration_s: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    peak_viewers: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    total_viewers: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    gift_amount: { type: DataTypes.BIGINT, allowNull: false, defaultValue: 0 },
    settled_at: { type: DataTypes.DATE(3), allowNull: false },
  });
  await queryInterface.addIndex('live_statistics', ['room_id'], { name: 'live_statistics_room' });
};

export const down: Migration['down'] = async ({ queryInterface }) => {
  await queryInterface.dropTable('live_statistics');
};
