import { DataTypes, type Model, type Optional, type Sequelize } from 'sequelize';
import { defineOnce } from './define.js';

export type PendingBanStatus = 'pending' | 'confirmed' | 'dismissed';

export interface PendingBanRow {
  id: string | number;
  identity: string;
  user_id: string | number;
  room_id: string | number | null;
  session_id: string | null;
  reason: string;
  evidence_url: string | null;
  pause_ban_id: string | number | null;
  status: PendingBanStatus;
  decided_by: string | number | null;
  decided_at: string | number | null;
  created_at: string | number;
}
export type PendingBanModel = Model<PendingBanRow, Optional<PendingBanRow, 'id' | 'status' | 'decided_by' | 'decided_at'>>;

export const pendingBansTable = (sequelize: Sequelize) =>
  defineOnce<PendingBanModel>(sequelize, 'pending_bans', {
    id: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true },
    identity: { type: DataTypes.STRING(191), allowNull: false },
    user_id: { type: DataTypes.BIGINT, allowNull: false },
    room_id: { type: DataTypes.BIGINT, allowNull: true },
    session_id: { type: DataTypes.STRING(24), allowNull: true },
    reason: { type: DataTypes.STRING(512), allowNull: false },
    evidence_url: { type: DataTypes.STRING(1024), allowNull: true },
    pause_ban_id: { type: DataTypes.BIGINT, allowNull: true },
    status: { type: DataTypes.STRING(16), allowNull: false },
    decided_by: { type: DataTypes.BIGINT, allowNull: true },
    decided_at: { type: DataTypes.BIGINT, allowNull: true },
    created_at: { type: DataTypes.BIGINT, allowNull: false },
  }, { timestamps: false });
