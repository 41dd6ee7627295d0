import { DataTypes } from 'sequelize';
import type { Migration } from '../database.js';

/** users (seed 004): role is a short string (viewer | anchor | operator) rather than a TINYINT code. */
export const up: Migration['up'] = async ({ queryInterface }) => {
  await queryInterface.createTable('users', {
    id: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true },
    username: { type: DataTypes.STRING(64), allowNull: false, unique: true },
    password_hash: { type: DataTypes.STRING(255), allowNull: false },
    role: { type: DataTypes.STRING(16), allowNull: false, defaultValue: 'viewer' },
    created_at: { type: DataTypes.DATE(3), allowNull: false },
    updated_at: { type: DataTypes.DATE(3), allowNull: false },
  });
};

export const down: Migration['down'] = async ({ queryInterface }) => {
  await queryInterface.dropTable('users');
};
