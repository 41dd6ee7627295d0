import { DataTypes, type Model, type Optional, type Sequelize } from 'sequelize';
import { defineOnce } from './define.js';

/** Tables of migration 0200-chat: chat messages and in-room moderation. */
export interface MessageRow {
  id: string | number;
  room_id: string | number;
  session_id: string | null;
  user_id: string | number | null;
  type: string;
  content: string;
  kept_id: string | null;
  video_ts: number | null;
  color: string | null;
  position: string | null;
  hidden: boolean;
  created_at: Date;
}
type MessageModel = Model<MessageRow, Optional<MessageRow, 'id' | 'hidden' | 'session_id' | 'user_id' | 'kept_id' | 'video_ts' | 'color' | 'position'>>;

export const messagesTable = (sequelize: Sequelize) =>
  defineOnce<MessageModel>(sequelize, 'messages', {
    id: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true },
    room_id: { type: DataTypes.BIGINT, allowNull: false },
    session_id: { type: DataTypes.STRING(24), allowNull: true },
    user_id: { type: DataTypes.BIGINT, allowNull: true },
    type: { type: DataTypes.STRING(32), allowNull: false },
    content: { type: DataTypes.TEXT, allowNull: false },
    kept_id: { type: DataTypes.STRING(40), allowNull: true },
    video_ts: { type: DataTypes.BIGINT, allowNull: true },
    color: { type: DataTypes.STRING(7), allowNull: true },
    position: { type: DataTypes.STRING(8), allowNull: true },
    hidden: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
    created_at: { type: DataTypes.DATE(3), allowNull: false },
  }, { timestamps: false });

export interface RoomMemberRow { room_id: string | number; user_id: string | number; created_at: Date; by_user_id?: string | number }

export const roomBlacklistTable = (sequelize: Sequelize) =>
  defineOnce<Model<RoomMemberRow>>(sequelize, 'room_blacklist', {
    room_id: { type: DataTypes.BIGINT, primaryKey: true },
    user_id: { type: DataTypes.BIGINT, primaryKey: true },
    by_user_id: { type: DataTypes.BIGINT, allowNull: false },
    created_at: { type: DataTypes.DATE(3), allowNull: false },
  }, { timestamps: false });

export const roomAdminsTable = (sequelize: Sequelize) =>
  defineOnce<Model<RoomMemberRow>>(sequelize, 'room_admins', {
    room_id: { type: DataTypes.BIGINT, primaryKey: true },
    user_id: { type: DataTypes.BIGINT, primaryKey: true },
    created_at: { type: DataTypes.DATE(3), allowNull: false },
  }, { timestamps: false });

export interface RoomReportRow {
  id: string | number;
  room_id: string | number;
  reporter_id: string | number;
  message_id: string | null;
  reason: string;
  status: string;
  created_at: Date;
}
export const roomReportsTable = (sequelize: Sequelize) =>
  defineOnce<Model<RoomReportRow, Optional<RoomReportRow, 'id' | 'status' | 'message_id'>>>(sequelize, 'room_reports', {
    id: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true },
    room_id: { type: DataTypes.BIGINT, allowNull: false },
    reporter_id: { type: DataTypes.BIGINT, allowNull: false },
    message_id: { type: DataTypes.STRING(40), allowNull: true },
    reason: { type: DataTypes.STRING(500), allowNull: false },
    status: { type: DataTypes.STRING(16), allowNull: false, defaultValue: 'open' },
    created_at: { type: DataTypes.DATE(3), allowNull: false },
  }, { timestamps: false });

export interface ModerationLogRow {
  id: string | number;
  room_id: string | number;
  actor_id: string | number;
  action: string;
  target_user_id: string | number | null;
  detail: string | null;
  created_at: Date;
}
export const roomModerationLogTable = (sequelize: Sequelize) =>
  defineOnce<Model<ModerationLogRow, Optional<ModerationLogRow, 'id' | 'target_user_id' | 'detail'>>>(sequelize, 'room_moderation_log', {
    id: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true },
    room_id: { type: DataTypes.BIGINT, allowNull: false },
    actor_id: { type: DataTypes.BIGINT, allowNull: false },
    action: { type: DataTypes.STRING(32), allowNull: false },
    target_user_id: { type: DataTypes.BIGINT, allowNull: true },
    detail: { type: DataTypes.STRING(500), allowNull: true },
    created_at: { type: DataTypes.DATE(3), allowNull: false },
  }, { timestamps: false });

export interface RoomChatSettingsRow { room_id: string | number; anonymous: boolean | null; rules: string | null; updated_at: Date }
export const roomChatSettingsTable = (sequelize: Sequelize) =>
  defineOnce<Model<RoomChatSettingsRow>>(sequelize, 'room_chat_settings', {
    room_id: { type: DataTypes.BIGINT, primaryKey: true },
    anonymous: { type: DataTypes.BOOLEAN, allowNull: true },
    /** The room's own rules (migration 0210), null when it has none. */
    rules: { type: DataTypes.STRING(2000), allowNull: true },
    updated_at: { type: DataTypes.DATE(3), allowNull: false },
  }, { timestamps: false });
