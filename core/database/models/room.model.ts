import { DataTypes, type Model, type Optional, type Sequelize } from 'sequelize';
import { defineOnce, snakeTimestamps } from './define.js';

export interface RoomRow {
  id: string | number;
  owner_id: string | number;
  title: string;
  cover_url: string | null;
  stream_key: string;
  stream_key_rotated_at: Date | null;
  stream_key_revoked: boolean;
  is_live: boolean;
  viewers_count: number;
  record_enabled: boolean;
  created_at: Date;
  updated_at: Date;
}
export type RoomModel = Model<
  RoomRow,
  Optional<RoomRow, 'id' | 'created_at' | 'updated_at' | 'cover_url' | 'stream_key_rotated_at' | 'stream_key_revoked' | 'is_live' | 'viewers_count' | 'record_enabled'>
>;

export const roomsTable = (sequelize: Sequelize) =>
  defineOnce<RoomModel>(sequelize, 'rooms', {
    id: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true },
    owner_id: { type: DataTypes.BIGINT, allowNull: false },
    title: { type: DataTypes.STRING(255), allowNull: false },
    cover_url: { type: DataTypes.STRING(1024), allowNull: true },
    stream_key: { type: DataTypes.STRING(128), allowNull: false },
    stream_key_rotated_at: { type: DataTypes.DATE(3), allowNull: true },
    stream_key_revoked: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
    is_live: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
    viewers_count: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    record_enabled: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
    created_at: DataTypes.DATE(3),
    updated_at: DataTypes.DATE(3),
  }, snakeTimestamps);
