import { DataTypes } from 'sequelize';
import type { Migration } from '../database.js';

/** The room's own rules (the anchor's 直播间公约), shown on entering its chat after the platform's conventions. */
export const up: Migration['up'] = async ({ queryInterface }) => {
  await queryInterface.addColumn('room_chat_settings', 'rules', { type: DataTypes.STRING(2000), allowNull: true });
};

export const down: Migration['down'] = async ({ queryInterface }) => {
  await queryInterface.removeColumn('room_chat_settings', 'rules');
};
