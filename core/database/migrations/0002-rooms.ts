import { DataTypes } from 'sequelize';
import type { Migration } from '../database.js';

/** rooms (seed 004) plus stream-key lifecycle and the recording switch. */
export const up: Migration['up'] = async ({ queryInterface }) => {
  await queryInterface.createTable('rooms', {
    id: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true },
    owner_id: { type: DataTypes.BIGINT, allowNull: false },
    title: { type: DataTypes.STRING(255), allowNull: false },
    cover_url: { type: DataTypes.STRING(1024), allowNull: true },
    stream_key: { type: DataTypes.STRING(128), allowNull: false, unique: true },
    stream_key_rotated_at: { type: DataTypes.DATE(3), allowNull: true },
    stream_key_revoked: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
    is_live: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
    viewers_count: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    record_enabled: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
    created_at: { type: DataTypes.DATE(3), allowNull: false },
    updated_at: { type: DataTypes.DATE(3), allowNull: false },
  });
  await queryInterface.addIndex('rooms', ['owner_id'], { name: 'rooms_owner_id' });
  await queryInterface.addIndex('rooms', ['is_live'], { name: 'rooms_is_live' });
};

export const down: Migration['down'] = async ({ queryInterface }) => {
  await queryInterface.dropTable('rooms');
};
