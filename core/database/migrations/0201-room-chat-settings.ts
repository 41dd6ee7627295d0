import { DataTypes } from 'sequelize';
import type { Migration } from '../database.js';

/** Per-room chat settings the anchor chooses: anonymous readers (NULL = follow ONAIR_CHAT_ANONYMOUS). */
export const up: Migration['up'] = async ({ queryInterface }) => {
  await queryInterface.createTable('room_chat_settings', {
    room_id: { type: DataTypes.BIGINT, primaryKey: true },
    anonymous: { type: DataTypes.BOOLEAN, allowNull: true },
    updated_at: { type: DataTypes.DATE(3), allowNull: false },
  });
};

export const down: Migration['down'] = async ({ queryInterface }) => {
  await queryInterface.dropTable('room_chat_settings');
};
