import { DataTypes } from 'sequelize';
import type { Migration } from '../database.js';

/**
 * live_streams (seed 000): one row per live session. The id is the snowflake session id, kept as a
 * decimal string (VARCHAR) on every dialect: SQLite's driver would round a 64-bit integer to a double.
 * status: preparing | live | ended; close_method: 1 anchor, 2 operator, 3 stream cut / reaper.
 */
export const up: Migration['up'] = async ({ queryInterface }) => {
  await queryInterface.createTable('live_streams', {
    id: { type: DataTypes.STRING(24), primaryKey: true },
    room_id: { type: DataTypes.BIGINT, allowNull: false },
    anchor_id: { type: DataTypes.BIGINT, allowNull: false },
    status: { type: DataTypes.STRING(16), allowNull: false },
    start_at: { type: DataTypes.DATE(3), allowNull: true },
    end_at: { type: DataTypes.DATE(3), allowNull: true },
    duration_s: { type: DataTypes.INTEGER, allowNull: true },
    close_method: { type: DataTypes.INTEGER, allowNull: true },
    close_reason: { type: DataTypes.STRING(512), allowNull: true },
    push_expires_at: { type: DataTypes.DATE(3), allowNull: true },
    peak_viewers: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    created_at: { type: DataTypes.DATE(3), allowNull: false },
    updated_at: { type: DataTypes.DATE(3), allowNull: false },
  });
  await queryInterface.addIndex('live_streams', ['room_id', 'status'], { name: 'live_streams_room_status' });
  await queryInterface.addIndex('live_streams', ['anchor_id'], { name: 'live_streams_anchor' });
  await queryInterface.addIndex('live_streams', ['status'], { name: 'live_streams_status' });
};

export const down: Migration['down'] = async ({ queryInterface }) => {
  await queryInterface.dropTable('live_streams');
};
