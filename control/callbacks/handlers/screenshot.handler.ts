import { QueryTypes } from 'sequelize';
import type { CallbackHandler } from '../callback-consumer.js';
import type { CallbackHandlerDeps } from './handler-deps.js';

/**
 * screenshot (event_type 200): the room's cover becomes the newest screenshot (an older one handled
 * late does not replace a newer cover), and every screenshot path is kept in live_screenshots.
 */
export function screenshotHandler(deps: CallbackHandlerDeps): CallbackHandler {
  return async (ctx) => {
    const { event } = ctx;
    const b = event.body;
    const picUrl = String(b.pic_url);
    const cover = String(b.pic_full_url ?? picUrl);
    const takenAt = b.create_time !== undefined ? Number(b.create_time) * 1000 : event.at;
    const room = await deps.rooms.findById(event.streamName);
    if (room) {
      const [newest] = await deps.db.sequelize.query<{ at: number | string | null }>('SELECT MAX(taken_at) AS at FROM live_screenshots WHERE room_id = ?',
        { replacements: [room.id], type: QueryTypes.SELECT });
      if (newest?.at === null || newest?.at === undefined || Number(newest.at) <= takenAt) {
        await deps.rooms.update(room.id, { coverUrl: cover.slice(0, 1024) });
        await deps.roomService.invalidate(room.id);
      }
    }
    await ctx.commit(async (tx) => {
      await tx.run(
        `INSERT INTO live_screenshots (identity, room_id, stream_name, pic_url, pic_full_url, width, height, taken_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [event.identity, room?.id ?? null, event.streamName, picUrl.slice(0, 1024), b.pic_full_url ? String(b.pic_full_url).slice(0, 1024) : null, b.width ?? null, b.height ?? null, takenAt, Date.now()],
      );
    });
  };
}
