import type { CommitHook, EventRoute } from '../../core/events/event-route.js';
import { fileLocation } from '../../core/events/domain-events.js';

/**
 * recording.finished: a live_records row (session, room, file location, duration, size, format,
 * start/end), committed with the processed marker and declared as rows, so a burst of recordings is
 * written with a few multi-row statements (RowsCommitter). The transcoder does not read a queue of
 * ours: it consumes `recording.finished` from the bus in its own consumer group.
 */
export function recordingFinishedHandler(): EventRoute<'recording.finished'> {
  return async (ctx) => {
    const { event } = ctx;
    // The public stream name is the room id (DESIGN: viewers play /live/{room_id}); others have no room.
    const roomId = /^\d{1,19}$/.test(event.roomId) ? event.roomId : null;
    const hooks = !event.sessionId && roomId ? [{ name: 'record-session', identity: event.eventId }] : [];
    await ctx.commitRows({
      rows: [{
        table: 'live_records',
        values: {
          identity: event.eventId, session_id: event.sessionId ?? null, room_id: roomId, stream_name: event.roomId,
          video_url: fileLocation(event.file).slice(0, 1024), file_id: event.vendorFileId ?? null, file_format: event.format,
          start_time: event.startedAt, end_time: event.endedAt, duration_s: Math.round(event.durationMs / 1000), file_size: event.size, created_at: Date.now(),
        },
      }],
      hooks,
    });
  };
}

/**
 * Follow-up statement of a group of record rows, one for the whole group:
 *   record-session  the room's current session, for records whose event did not name it
 */
export const recordingCommitHooks: Record<string, CommitHook> = {
  async 'record-session'(tx, identities) {
    await tx.run(
      `UPDATE live_records SET session_id = (SELECT s.id FROM live_streams s WHERE s.room_id = live_records.room_id
         AND s.status IN ('preparing', 'live') ORDER BY s.created_at DESC LIMIT 1)
       WHERE identity IN (?) AND session_id IS NULL AND room_id IS NOT NULL`,
      [identities],
    );
  },
};
