import { DataTypes } from 'sequelize';
import type { Migration } from '../database.js';

/**
 * replays.segments_removed_at: when the transcoder removed the per-segment MP4 objects of a show
 * joined into one (ONAIR_REPLAY_KEEP_SEGMENTS=false, the default), after verifying the joined
 * object. From then on the segments' rows describe the show's parts (times, codecs, posters) but
 * their objects are gone: the API hands out no URL for them.
 */
export const up: Migration['up'] = async ({ queryInterface: q }) => {
  await q.addColumn('replays', 'segments_removed_at', { type: DataTypes.BIGINT, allowNull: true });
};

export const down: Migration['down'] = async ({ queryInterface: q }) => {
  await q.removeColumn('replays', 'segments_removed_at');
};
