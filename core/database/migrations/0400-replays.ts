import { DataTypes } from 'sequelize';
import type { Migration } from '../database.js';

/**
 * The transcoder's tables (issue 13):
 *   replays          one per show (a publish session of a room): what viewers list and play
 *   replay_segments  one per recording made into an MP4 (long shows are recorded in segments);
 *                    `source_event_id` (the recording.finished eventId) is unique: a job that runs
 *                    twice (a transcoder killed and resumed elsewhere) still writes one row
 * live_streams.record_url (seed 004): the session's replay, once one is ready.
 * live_records stays the log of raw recordings written by the callback pipeline.
 */
const ms = { type: DataTypes.BIGINT, allowNull: false };
const id = { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true };

export const up: Migration['up'] = async ({ queryInterface: q }) => {
  await q.createTable('replays', {
    id,
    show_key: { type: DataTypes.STRING(191), allowNull: false, unique: true },
    room_id: { type: DataTypes.BIGINT, allowNull: false },
    session_id: { type: DataTypes.STRING(24), allowNull: true },
    publisher_id: { type: DataTypes.STRING(128), allowNull: false },
    segments: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    duration_ms: { type: DataTypes.BIGINT, allowNull: false, defaultValue: 0 },
    size: { type: DataTypes.BIGINT, allowNull: false, defaultValue: 0 },
    poster_key: { type: DataTypes.STRING(1024), allowNull: true },
    started_at: ms,
    ended_at: ms,
    created_at: ms,
    updated_at: ms,
  });
  await q.addIndex('replays', ['room_id', 'started_at'], { name: 'replays_room' });
  await q.addIndex('replays', ['ended_at'], { name: 'replays_ended' });

  await q.createTable('replay_segments', {
    id,
    replay_id: { type: DataTypes.BIGINT, allowNull: false },
    source_event_id: { type: DataTypes.STRING(191), allowNull: false, unique: true },
    segment: { type: DataTypes.INTEGER, allowNull: false },
    object_key: { type: DataTypes.STRING(1024), allowNull: false },
    poster_key: { type: DataTypes.STRING(1024), allowNull: true },
    duration_ms: { type: DataTypes.BIGINT, allowNull: false },
    size: { type: DataTypes.BIGINT, allowNull: false },
    md5: { type: DataTypes.STRING(32), allowNull: false },
    video_codec: { type: DataTypes.STRING(16), allowNull: true },
    audio_codec: { type: DataTypes.STRING(16), allowNull: true },
    width: { type: DataTypes.INTEGER, allowNull: true },
    height: { type: DataTypes.INTEGER, allowNull: true },
    started_at: ms,
    ended_at: ms,
    created_at: ms,
  });
  await q.addIndex('replay_segments', ['replay_id', 'segment'], { name: 'replay_segments_replay' });

  await q.addColumn('live_streams', 'record_url', { type: DataTypes.STRING(1024), allowNull: true });
};

export const down: Migration['down'] = async ({ queryInterface: q }) => {
  await q.removeColumn('live_streams', 'record_url');
  await q.dropTable('replay_segments');
  await q.dropTable('replays');
};
