import { DataTypes } from 'sequelize';
import type { Migration } from '../database.js';

/**
 * Issue 12, discovery and social:
 *   room_pins               rooms an operator pinned to the top of the recommendations (seed 000 置顶房间)
 *   live_session_counters   likes and shares per show, aggregated (clients batch taps into one request)
 */
const ms = { type: DataTypes.BIGINT, allowNull: false };

export const up: Migration['up'] = async ({ queryInterface: q }) => {
  await q.createTable('room_pins', {
    room_id: { type: DataTypes.BIGINT, primaryKey: true },
    position: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    pinned_by: { type: DataTypes.BIGINT, allowNull: false },
    created_at: ms,
  });
  await q.createTable('live_session_counters', {
    session_id: { type: DataTypes.STRING(24), primaryKey: true },
    room_id: { type: DataTypes.BIGINT, allowNull: false },
    likes: { type: DataTypes.BIGINT, allowNull: false, defaultValue: 0 },
    shares: { type: DataTypes.BIGINT, allowNull: false, defaultValue: 0 },
    updated_at: ms,
  });
};

export const down: Migration['down'] = async ({ queryInterface: q }) => {
  await q.dropTable('live_session_counters');
  await q.dropTable('room_pins');
};
