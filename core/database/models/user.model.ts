import { DataTypes, type Model, type Optional, type Sequelize } from 'sequelize';
import { defineOnce, snakeTimestamps } from './define.js';

export interface UserRow {
  id: string | number;
  username: string;
  password_hash: string;
  role: string;
  created_at: Date;
  updated_at: Date;
}
export type UserModel = Model<UserRow, Optional<UserRow, 'id' | 'created_at' | 'updated_at'>>;

export const usersTable = (sequelize: Sequelize) =>
  defineOnce<UserModel>(sequelize, 'users', {
    id: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true },
    username: { type: DataTypes.STRING(64), allowNull: false },
    password_hash: { type: DataTypes.STRING(255), allowNull: false },
    role: { type: DataTypes.STRING(16), allowNull: false },
    created_at: DataTypes.DATE(3),
    updated_at: DataTypes.DATE(3),
  }, snakeTimestamps);
