import { DataTypes, type Model, type Optional, type Sequelize } from 'sequelize';
import { defineOnce } from './define.js';

export interface LiveAudienceRow {
  id: string | number;
  session_id: string;
  room_id: string | number;
  user_id: string | number | null;
  viewer_key: string | null;
  enter_at: Date;
  exit_at: Date | null;
  watch_s: number | null;
}
export type LiveAudienceModel = Model<LiveAudienceRow, Optional<LiveAudienceRow, 'id' | 'user_id' | 'viewer_key' | 'exit_at' | 'watch_s'>>;

export const liveAudienceTable = (sequelize: Sequelize) =>
  defineOnce<LiveAudienceModel>(sequelize, 'live_audience', {
    id: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true },
    session_id: { type: DataTypes.STRING(24), allowNull: false },
    room_id: { type: DataTypes.BIGINT, allowNull: false },
    user_id: { type: DataTypes.BIGINT, allowNull: true },
    viewer_key: { type: DataTypes.STRING(64), allowNull: true },
    enter_at: { type: DataTypes.DATE(3), allowNull: false },
    exit_at: { type: DataTypes.DATE(3), allowNull: true },
    watch_s: { type: DataTypes.INTEGER, allowNull: true },
  }, { timestamps: false });
