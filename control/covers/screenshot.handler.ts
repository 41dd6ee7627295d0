import { QueryTypes } from 'sequelize';
import type { Database } from '../../core/database/database.js';
import type { EventRoute } from '../../core/events/event-route.js';
import { fileLocation } from '../../core/events/domain-events.js';

export interface ScreenshotDeps {
  db: Database;
  rooms: {
    findById(id: string): Promise<{ id: string } | null>;
    update(id: string, patch: { coverUrl?: string | null }): Promise<void>;
  };
  roomService: { invalidate(roomId: string): Promise<void> };
}

/**
 * screenshot.taken: the room's cover becomes the newest screenshot (an older one handled late does
 * not replace a newer cover), and every screenshot is kept in live_screenshots.
 */
export function screenshotTakenHandler(deps: ScreenshotDeps): EventRoute<'screenshot.taken'> {
  return async (ctx) => {
    const { event } = ctx;
    const picUrl = fileLocation(event.image);
    const full = event.fullImage ? fileLocation(event.fullImage) : null;
    const room = await deps.rooms.findById(event.roomId);
    if (room) {
      const [newest] = await deps.db.sequelize.query<{ at: number | string | null }>('SELECT MAX(taken_at) AS at FROM live_screenshots WHERE room_id = ?',
        { replacements: [room.id], type: QueryTypes.SELECT });
      if (newest?.at === null || newest?.at === undefined || Number(newest.at) <= event.at) {
        await deps.rooms.update(room.id, { coverUrl: (full ?? picUrl).slice(0, 1024) });
        await deps.roomService.invalidate(room.id);
      }
    }
    await ctx.commit(async (tx) => {
      await tx.run(
        `INSERT INTO live_screenshots (identity, room_id, stream_name, pic_url, pic_full_url, width, height, taken_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [event.eventId, room?.id ?? null, event.roomId, picUrl.slice(0, 1024), full?.slice(0, 1024) ?? null, event.width ?? null, event.height ?? null, event.at, Date.now()],
      );
    });
  };
}
