import { DataTypes } from 'sequelize';
import type { Migration } from '../database.js';

/**
 * Issue 14 (operator console, audit actions):
 *   moderation_actions  what an operator did about an audit verdict, a viewer report, an anchor's
 *                       in-room moderation action or a room: dismiss, warn, pause (until), ban.
 *                       The room's moderation history and the console's audit view read it.
 */
export const up: Migration['up'] = async ({ queryInterface: q }) => {
  await q.createTable('moderation_actions', {
    id: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true },
    operator_id: { type: DataTypes.BIGINT, allowNull: false },
    action: { type: DataTypes.STRING(16), allowNull: false },
    source: { type: DataTypes.STRING(16), allowNull: false },
    source_id: { type: DataTypes.BIGINT, allowNull: false },
    room_id: { type: DataTypes.BIGINT, allowNull: true },
    user_id: { type: DataTypes.BIGINT, allowNull: true },
    reason: { type: DataTypes.STRING(512), allowNull: false },
    until: { type: DataTypes.BIGINT, allowNull: true },
    created_at: { type: DataTypes.BIGINT, allowNull: false },
  });
  await q.addIndex('moderation_actions', ['room_id', 'id'], { name: 'moderation_actions_room' });
  await q.addIndex('moderation_actions', ['source', 'source_id'], { name: 'moderation_actions_source' });
};

export const down: Migration['down'] = async ({ queryInterface: q }) => {
  await q.dropTable('moderation_actions');
};
