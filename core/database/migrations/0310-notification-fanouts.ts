import { DataTypes } from 'sequelize';
import type { Migration } from '../database.js';

/**
 * Issue 12, notifications delivered live:
 *   notification_fanouts  one row per go-live announcement to an anchor's followers: the durable job
 *                         the fan-out worker walks in chunks (cursor = the last follower id written),
 *                         leased so one control node at a time works on it, resumed after a crash
 *   follows (anchor_id, user_id)      the worker pages followers in user id order
 *   notifications (user_id, read_at)  the unread count
 */
const ms = { type: DataTypes.BIGINT, allowNull: false };

export const up: Migration['up'] = async ({ queryInterface: q }) => {
  await q.createTable('notification_fanouts', {
    id: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true },
    anchor_id: { type: DataTypes.BIGINT, allowNull: false },
    kind: { type: DataTypes.STRING(32), allowNull: false },
    dedupe_key: { type: DataTypes.STRING(191), allowNull: false },
    payload: { type: DataTypes.TEXT, allowNull: false },
    cursor_user: { type: DataTypes.BIGINT, allowNull: false, defaultValue: 0 },
    written: { type: DataTypes.BIGINT, allowNull: false, defaultValue: 0 },
    status: { type: DataTypes.STRING(16), allowNull: false },
    lease_until: { type: DataTypes.BIGINT, allowNull: false, defaultValue: 0 },
    created_at: ms,
    finished_at: { type: DataTypes.BIGINT, allowNull: true },
  });
  await q.addIndex('notification_fanouts', ['dedupe_key'], { name: 'notification_fanouts_dedupe', unique: true });
  await q.addIndex('notification_fanouts', ['status', 'id'], { name: 'notification_fanouts_status' });
  await q.addIndex('follows', ['anchor_id', 'user_id'], { name: 'follows_anchor_user' });
  await q.addIndex('notifications', ['user_id', 'read_at'], { name: 'notifications_unread' });
};

export const down: Migration['down'] = async ({ queryInterface: q }) => {
  await q.removeIndex('notifications', 'notifications_unread');
  await q.removeIndex('follows', 'follows_anchor_user');
  await q.dropTable('notification_fanouts');
};
