import { DataTypes } from 'sequelize';
import type { Migration } from '../database.js';

/**
 * The callback pipeline's tables (issue 4):
 *   live_events         every received callback and each status it went through (append-only log)
 *   callback_processed  one row per handled event identity: the idempotency marker
 *   live_records        recording files (seed 000), transcode_jobs: the durable queue for the transcoder
 *   live_screenshots    every screenshot path kept; the newest becomes the room cover
 *   live_audit_logs     audit results with the severity we derived and the action taken
 *   follows, notifications  followers of an anchor and the notices they get (go-live, audit warning)
 */
const ms = { type: DataTypes.BIGINT, allowNull: false };
const id = { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true };

export const up: Migration['up'] = async ({ queryInterface: q }) => {
  await q.createTable('live_events', {
    id,
    identity: { type: DataTypes.STRING(191), allowNull: true },
    source: { type: DataTypes.STRING(16), allowNull: false },
    event_type: { type: DataTypes.INTEGER, allowNull: true },
    stream_name: { type: DataTypes.STRING(191), allowNull: true },
    sequence: { type: DataTypes.STRING(64), allowNull: true },
    status: { type: DataTypes.STRING(16), allowNull: false },
    reason: { type: DataTypes.STRING(512), allowNull: true },
    bus_id: { type: DataTypes.STRING(40), allowNull: true },
    attempt: { type: DataTypes.INTEGER, allowNull: true },
    body: { type: DataTypes.TEXT, allowNull: true },
    created_at: ms,
  });
  await q.addIndex('live_events', ['identity'], { name: 'live_events_identity' });
  await q.addIndex('live_events', ['status', 'created_at'], { name: 'live_events_status' });

  await q.createTable('callback_processed', {
    identity: { type: DataTypes.STRING(191), primaryKey: true },
    event_type: { type: DataTypes.INTEGER, allowNull: false },
    bus_id: { type: DataTypes.STRING(40), allowNull: true },
    processed_at: ms,
  });

  await q.createTable('live_records', {
    id,
    identity: { type: DataTypes.STRING(191), allowNull: false, unique: true },
    session_id: { type: DataTypes.STRING(24), allowNull: true },
    room_id: { type: DataTypes.BIGINT, allowNull: true },
    stream_name: { type: DataTypes.STRING(191), allowNull: false },
    video_url: { type: DataTypes.STRING(1024), allowNull: false },
    file_id: { type: DataTypes.STRING(128), allowNull: true },
    file_format: { type: DataTypes.STRING(16), allowNull: false },
    start_time: { type: DataTypes.BIGINT, allowNull: true },
    end_time: { type: DataTypes.BIGINT, allowNull: true },
    duration_s: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    file_size: { type: DataTypes.BIGINT, allowNull: false, defaultValue: 0 },
    created_at: ms,
  });
  await q.addIndex('live_records', ['room_id'], { name: 'live_records_room' });
  await q.addIndex('live_records', ['session_id'], { name: 'live_records_session' });

  await q.createTable('transcode_jobs', {
    id,
    record_id: { type: DataTypes.BIGINT, allowNull: false, unique: true },
    source_url: { type: DataTypes.STRING(1024), allowNull: false },
    status: { type: DataTypes.STRING(16), allowNull: false, defaultValue: 'queued' },
    attempts: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    last_error: { type: DataTypes.TEXT, allowNull: true },
    created_at: ms,
    updated_at: ms,
  });
  await q.addIndex('transcode_jobs', ['status', 'id'], { name: 'transcode_jobs_status' });

  await q.createTable('live_screenshots', {
    id,
    identity: { type: DataTypes.STRING(191), allowNull: false, unique: true },
    room_id: { type: DataTypes.BIGINT, allowNull: true },
    stream_name: { type: DataTypes.STRING(191), allowNull: false },
    pic_url: { type: DataTypes.STRING(1024), allowNull: false },
    pic_full_url: { type: DataTypes.STRING(1024), allowNull: true },
    width: { type: DataTypes.INTEGER, allowNull: true },
    height: { type: DataTypes.INTEGER, allowNull: true },
    taken_at: ms,
    created_at: ms,
  });
  await q.addIndex('live_screenshots', ['room_id', 'taken_at'], { name: 'live_screenshots_room' });

  await q.createTable('live_audit_logs', {
    id,
    identity: { type: DataTypes.STRING(191), allowNull: false, unique: true },
    room_id: { type: DataTypes.BIGINT, allowNull: true },
    anchor_id: { type: DataTypes.BIGINT, allowNull: true },
    session_id: { type: DataTypes.STRING(24), allowNull: true },
    stream_name: { type: DataTypes.STRING(191), allowNull: false },
    kind: { type: DataTypes.STRING(16), allowNull: false },
    suggestion: { type: DataTypes.STRING(16), allowNull: true },
    label: { type: DataTypes.STRING(64), allowNull: true },
    score: { type: DataTypes.INTEGER, allowNull: true },
    severity: { type: DataTypes.STRING(16), allowNull: false },
    action: { type: DataTypes.STRING(32), allowNull: false },
    evidence_url: { type: DataTypes.STRING(1024), allowNull: true },
    created_at: ms,
  });
  await q.addIndex('live_audit_logs', ['anchor_id', 'created_at'], { name: 'live_audit_logs_anchor' });

  await q.createTable('follows', {
    user_id: { type: DataTypes.BIGINT, primaryKey: true },
    anchor_id: { type: DataTypes.BIGINT, primaryKey: true },
    created_at: ms,
  });
  await q.addIndex('follows', ['anchor_id'], { name: 'follows_anchor' });

  await q.createTable('notifications', {
    id,
    user_id: { type: DataTypes.BIGINT, allowNull: false },
    kind: { type: DataTypes.STRING(32), allowNull: false },
    payload: { type: DataTypes.TEXT, allowNull: false },
    dedupe_key: { type: DataTypes.STRING(191), allowNull: true },
    read_at: { type: DataTypes.BIGINT, allowNull: true },
    created_at: ms,
  });
  await q.addIndex('notifications', ['user_id', 'created_at'], { name: 'notifications_user' });
  await q.addIndex('notifications', ['user_id', 'dedupe_key'], { name: 'notifications_dedupe', unique: true });
};

export const down: Migration['down'] = async ({ queryInterface: q }) => {
  for (const t of ['notifications', 'follows', 'live_audit_logs', 'live_screenshots', 'transcode_jobs', 'live_records', 'callback_processed', 'live_events']) {
    await q.dropTable(t);
  }
};
