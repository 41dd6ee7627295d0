import { DataTypes, type Model, type Optional, type Sequelize } from 'sequelize';
import { defineOnce } from './define.js';

export interface PublishBanRow {
  id: string | number;
  user_id: string | number;
  until: Date | null;
  reason: string;
  created_by: string | number | null;
  lifted_at: Date | null;
  created_at: Date;
}
export type PublishBanModel = Model<PublishBanRow, Optional<PublishBanRow, 'id' | 'lifted_at' | 'created_by' | 'created_at'>>;

export const publishBansTable = (sequelize: Sequelize) =>
  defineOnce<PublishBanModel>(sequelize, 'publish_bans', {
    id: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true },
    user_id: { type: DataTypes.BIGINT, allowNull: false },
    until: { type: DataTypes.DATE(3), allowNull: true },
    reason: { type: DataTypes.STRING(512), allowNull: false },
    created_by: { type: DataTypes.BIGINT, allowNull: true },
    lifted_at: { type: DataTypes.DATE(3), allowNull: true },
    created_at: DataTypes.DATE(3),
  }, { timestamps: true, createdAt: 'created_at', updatedAt: false });
