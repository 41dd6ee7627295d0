import { DataTypes } from 'sequelize';
import type { Migration } from '../database.js';

/**
 * Issue 10 (domain events on the bus):
 *   event_processed        one row per handled domain event id: the idempotency marker (replaces
 *                          callback_processed, whose rows were keyed by vendor event_type)
 *   live_events.event_name the domain event a log line is about (event_type stays for refusals of
 *                          vendor callbacks, which never became an event)
 *   transcode_jobs         dropped: the transcoder subscribes to `recording.finished` on the bus
 *                          (its own consumer group) instead of polling a second queue
 */
export const up: Migration['up'] = async ({ queryInterface: q }) => {
  await q.createTable('event_processed', {
    event_id: { type: DataTypes.STRING(191), primaryKey: true },
    event_name: { type: DataTypes.STRING(64), allowNull: false },
    bus_id: { type: DataTypes.STRING(40), allowNull: true },
    processed_at: { type: DataTypes.BIGINT, allowNull: false },
  });
  await q.addColumn('live_events', 'event_name', { type: DataTypes.STRING(64), allowNull: true });
  await q.dropTable('transcode_jobs');
};

export const down: Migration['down'] = async ({ queryInterface: q }) => {
  await q.createTable('transcode_jobs', {
    id: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true },
    record_id: { type: DataTypes.BIGINT, allowNull: false, unique: true },
    source_url: { type: DataTypes.STRING(1024), allowNull: false },
    status: { type: DataTypes.STRING(16), allowNull: false, defaultValue: 'queued' },
    attempts: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    last_error: { type: DataTypes.TEXT, allowNull: true },
    created_at: { type: DataTypes.BIGINT, allowNull: false },
    updated_at: { type: DataTypes.BIGINT, allowNull: false },
  });
  await q.removeColumn('live_events', 'event_name');
  await q.dropTable('event_processed');
};
