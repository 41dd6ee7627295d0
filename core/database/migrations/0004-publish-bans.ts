import { DataTypes } from 'sequelize';
import type { Migration } from '../database.js';

/** publish_bans: 封禁开播权限. until NULL = permanent; lifted_at set when an operator lifts it. */
export const up: Migration['up'] = async ({ queryInterface }) => {
  await queryInterface.createTable('publish_bans', {
    id: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true },
    user_id: { type: DataTypes.BIGINT, allowNull: false },
    until: { type: DataTypes.DATE(3), allowNull: true },
    reason: { type: DataTypes.STRING(512), allowNull: false, defaultValue: '' },
    created_by: { type: DataTypes.BIGINT, allowNull: true },
    lifted_at: { type: DataTypes.DATE(3), allowNull: true },
    created_at: { type: DataTypes.DATE(3), allowNull: false },
  });
  await queryInterface.addIndex('publish_bans', ['user_id'], { name: 'publish_bans_user' });
};

export const down: Migration['down'] = async ({ queryInterface }) => {
  await queryInterface.dropTable('publish_bans');
};
