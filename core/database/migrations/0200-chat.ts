import { DataTypes } from 'sequelize';
import type { Migration } from '../database.js';

/**
 * Live chat and in-room moderation (seed 004 `messages`; seed 000's anchor tools):
 * - messages: chat and danmaku, written in batches (control/chat/message.store.ts); `kept_id` is the
 *   pub/sub history id clients see, so a delete can name it.
 * - room_blacklist: the anchor's permanent block list (enter refuses, sockets refused).
 * - room_admins: viewers the anchor made room admins (they may kick and mute).
 * - room_reports: viewer reports of a room or a message, queued for operators.
 * - room_moderation_log: every in-room action, for the operator console.
 */
export const up: Migration['up'] = async ({ queryInterface }) => {
  await queryInterface.createTable('messages', {
    id: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true },
    room_id: { type: DataTypes.BIGINT, allowNull: false },
    session_id: { type: DataTypes.STRING(24), allowNull: true },
    user_id: { type: DataTypes.BIGINT, allowNull: true },
    type: { type: DataTypes.STRING(32), allowNull: false },
    content: { type: DataTypes.TEXT, allowNull: false },
    kept_id: { type: DataTypes.STRING(40), allowNull: true },
    video_ts: { type: DataTypes.BIGINT, allowNull: true },
    color: { type: DataTypes.STRING(7), allowNull: true },
    position: { type: DataTypes.STRING(8), allowNull: true },
    hidden: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
    created_at: { type: DataTypes.DATE(3), allowNull: false },
  });
  await queryInterface.addIndex('messages', ['room_id', 'id'], { name: 'messages_room' });
  await queryInterface.addIndex('messages', ['kept_id'], { name: 'messages_kept' });

  await queryInterface.createTable('room_blacklist', {
    room_id: { type: DataTypes.BIGINT, primaryKey: true },
    user_id: { type: DataTypes.BIGINT, primaryKey: true },
    by_user_id: { type: DataTypes.BIGINT, allowNull: false },
    created_at: { type: DataTypes.DATE(3), allowNull: false },
  });
  await queryInterface.createTable('room_admins', {
    room_id: { type: DataTypes.BIGINT, primaryKey: true },
    user_id: { type: DataTypes.BIGINT, primaryKey: true },
    created_at: { type: DataTypes.DATE(3), allowNull: false },
  });
  await queryInterface.createTable('room_reports', {
    id: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true },
    room_id: { type: DataTypes.BIGINT, allowNull: false },
    reporter_id: { type: DataTypes.BIGINT, allowNull: false },
    message_id: { type: DataTypes.STRING(40), allowNull: true },
    reason: { type: DataTypes.STRING(500), allowNull: false },
    status: { type: DataTypes.STRING(16), allowNull: false, defaultValue: 'open' },
    created_at: { type: DataTypes.DATE(3), allowNull: false },
  });
  await queryInterface.addIndex('room_reports', ['status', 'id'], { name: 'room_reports_status' });
  await queryInterface.createTable('room_moderation_log', {
    id: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true },
    room_id: { type: DataTypes.BIGINT, allowNull: false },
    actor_id: { type: DataTypes.BIGINT, allowNull: false },
    action: { type: DataTypes.STRING(32), allowNull: false },
    target_user_id: { type: DataTypes.BIGINT, allowNull: true },
    detail: { type: DataTypes.STRING(500), allowNull: true },
    created_at: { type: DataTypes.DATE(3), allowNull: false },
  });
  await queryInterface.addIndex('room_moderation_log', ['room_id', 'id'], { name: 'room_moderation_log_room' });
};

export const down: Migration['down'] = async ({ queryInterface }) => {
  for (const t of ['room_moderation_log', 'room_reports', 'room_admins', 'room_blacklist', 'messages']) await queryInterface.dropTable(t);
};
