import { DataTypes } from 'sequelize';
import type { Migration } from '../database.js';

/**
 * A show recorded in segments becomes one file (issue 13):
 *   replays.last_segment   index of the show's last segment, once a recording.finished said `final`
 *   replays.object_key     the joined MP4 (all segments, concat demuxer, -c copy, +faststart)
 *   replays.object_size / object_md5 / object_duration_ms  that object as uploaded and verified
 * A one-segment show has no joined object: its segment is the file.
 */
export const up: Migration['up'] = async ({ queryInterface: q }) => {
  await q.addColumn('replays', 'last_segment', { type: DataTypes.INTEGER, allowNull: true });
  await q.addColumn('replays', 'object_key', { type: DataTypes.STRING(1024), allowNull: true });
  await q.addColumn('replays', 'object_size', { type: DataTypes.BIGINT, allowNull: true });
  await q.addColumn('replays', 'object_md5', { type: DataTypes.STRING(32), allowNull: true });
  await q.addColumn('replays', 'object_duration_ms', { type: DataTypes.BIGINT, allowNull: true });
};

export const down: Migration['down'] = async ({ queryInterface: q }) => {
  await q.removeColumn('replays', 'object_duration_ms');
  await q.removeColumn('replays', 'object_md5');
  await q.removeColumn('replays', 'object_size');
  await q.removeColumn('replays', 'object_key');
  await q.removeColumn('replays', 'last_segment');
};
