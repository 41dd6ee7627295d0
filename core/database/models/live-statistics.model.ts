import { DataTypes, type Model, type Sequelize } from 'sequelize';
import { defineOnce } from './define.js';

export interface LiveStatisticsRow {
  session_id: string;
  room_id: string | number;
  anchor_id: string | number;
  duration_s: number;
  peak_viewers: number;
  total_viewers: number;
  gift_amount: string | number;
  gift_income?: string | number;
  gift_count?: number;
  settled_at: Date;
}
export type LiveStatisticsModel = Model<LiveStatisticsRow, LiveStatisticsRow>;

export const liveStatisticsTable = (sequelize: Sequelize) =>
  defineOnce<LiveStatisticsModel>(sequelize, 'live_statistics', {
    session_id: { type: DataTypes.STRING(24), primaryKey: true },
    room_id: { type: DataTypes.BIGINT, allowNull: false },
    anchor_id: { type: DataTypes.BIGINT, allowNull: false },
    duration_s: { type: DataTypes.INTEGER, allowNull: false },
    peak_viewers: { type: DataTypes.INTEGER, allowNull: false },
    total_viewers: { type: DataTypes.INTEGER, allowNull: false },
    gift_amount: { type: DataTypes.BIGINT, allowNull: false },
    gift_income: { type: DataTypes.BIGINT, allowNull: false, defaultValue: 0 },
    gift_count: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    settled_at: { type: DataTypes.DATE(3), allowNull: false },
  }, { timestamps: false });
