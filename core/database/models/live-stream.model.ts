import { DataTypes, type Model, type Optional, type Sequelize } from 'sequelize';
import { defineOnce, snakeTimestamps } from './define.js';

export type LiveStatus = 'preparing' | 'live' | 'ended';

export interface LiveStreamRow {
  id: string;
  room_id: string | number;
  anchor_id: string | number;
  status: LiveStatus;
  start_at: Date | null;
  end_at: Date | null;
  duration_s: number | null;
  close_method: number | null;
  close_reason: string | null;
  push_expires_at: Date | null;
  peak_viewers: number;
  created_at: Date;
  updated_at: Date;
}
export type LiveStreamModel = Model<
  LiveStreamRow,
  Optional<LiveStreamRow, 'created_at' | 'updated_at' | 'start_at' | 'end_at' | 'duration_s' | 'close_method' | 'close_reason' | 'push_expires_at' | 'peak_viewers'>
>;

export const liveStreamsTable = (sequelize: Sequelize) =>
  defineOnce<LiveStreamModel>(sequelize, 'live_streams', {
    id: { type: DataTypes.STRING(24), primaryKey: true },
    room_id: { type: DataTypes.BIGINT, allowNull: false },
    anchor_id: { type: DataTypes.BIGINT, allowNull: false },
    status: { type: DataTypes.STRING(16), allowNull: false },
    start_at: { type: DataTypes.DATE(3), allowNull: true },
    end_at: { type: DataTypes.DATE(3), allowNull: true },
    duration_s: { type: DataTypes.INTEGER, allowNull: true },
    close_method: { type: DataTypes.INTEGER, allowNull: true },
    close_reason: { type: DataTypes.STRING(512), allowNull: true },
    push_expires_at: { type: DataTypes.DATE(3), allowNull: true },
    peak_viewers: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    created_at: DataTypes.DATE(3),
    updated_at: DataTypes.DATE(3),
  }, snakeTimestamps);
