import { DataTypes } from 'sequelize';
import type { Migration } from '../database.js';

/**
 * live_audience: one row per viewing (seed 000 进房/退房). user_id is NULL for anonymous viewers;
 * viewer_key is the media engine's viewer id so an exit can find its enter.
 */
export const up: Migration['up'] = async ({ queryInterface }) => {
  await queryInterface.createTable('live_audience', {
    id: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true },
    session_id: { type: DataTypes.STRING(24), allowNull: false },
    room_id: { type: DataTypes.BIGINT, allowNull: false },
    user_id: { type: DataTypes.BIGINT, allowNull: true },
    viewer_key: { type: DataTypes.STRING(64), allowNull: true },
    enter_at: { type: DataTypes.DATE(3), allowNull: false },
    exit_at: { type: DataTypes.DATE(3), allowNull: true },
    watch_s: { type: DataTypes.INTEGER, allowNull: true },
  });
  await queryInterface.addIndex('live_audience', ['session_id'], { name: 'live_audience_session' });
  await queryInterface.addIndex('live_audience', ['user_id'], { name: 'live_audience_user' });
};

export const down: Migration['down'] = async ({ queryInterface }) => {
  await queryInterface.dropTable('live_audience');
};
