import type { RecordDone } from '../../../core/media/media-contract.js';
import type { CallbackHandler } from '../callback-consumer.js';
import type { CommitHook } from '../batch-commit.js';
import type { CallbackHandlerDeps } from './handler-deps.js';

/**
 * record (event_type 100): a live_records row (session, room, file url/path, duration, size,
 * format, start/end) and a queued transcode_jobs row for the transcoder, both committed with the
 * processed marker: the job is durable the moment the callback counts as handled. Declared as rows
 * so a burst of recordings is written with a few multi-row statements (RowsCommitter).
 */
export function recordHandler(_deps: CallbackHandlerDeps): CallbackHandler {
  return async (ctx) => {
    const { event } = ctx;
    const b = event.body;
    const media = event.source !== 'css' ? (b as unknown as RecordDone) : null;
    // The public stream name is the room id (DESIGN: viewers play /live/{room_id}); others have no room.
    const roomId = /^\d{1,19}$/.test(event.streamName) ? event.streamName : null;
    const row = media
      ? { url: media.path, fileId: null, format: 'flv', start: media.startedAt, end: media.endedAt, duration: Math.round(media.durationMs / 1000), size: media.size }
      : {
          url: String(b.video_url), fileId: b.file_id !== undefined ? String(b.file_id).slice(0, 128) : null, format: String(b.file_format ?? 'flv'),
          start: b.start_time !== undefined ? Number(b.start_time) * 1000 : null, end: b.end_time !== undefined ? Number(b.end_time) * 1000 : null,
          duration: Number(b.duration ?? 0), size: Number(b.file_size ?? 0),
        };
    const hooks = [{ name: 'transcode', identity: event.identity }];
    if (!media?.sessionId && roomId) hooks.push({ name: 'record-session', identity: event.identity });
    await ctx.commitRows({
      rows: [{
        table: 'live_records',
        values: {
          identity: event.identity, session_id: media?.sessionId ?? null, room_id: roomId, stream_name: event.streamName,
          video_url: row.url.slice(0, 1024), file_id: row.fileId, file_format: row.format.slice(0, 16), start_time: row.start,
          end_time: row.end, duration_s: row.duration, file_size: row.size, created_at: Date.now(),
        },
      }],
      hooks,
    });
  };
}

/**
 * Follow-up statements of a group of record rows, one statement each for the whole group:
 *   transcode       a queued transcode_jobs row per new record (the transcoder's durable queue)
 *   record-session  the room's current session, for records whose event did not name it
 */
export const recordCommitHooks: Record<string, CommitHook> = {
  async transcode(tx, identities) {
    const now = Date.now();
    await tx.run(
      `INSERT INTO transcode_jobs (record_id, source_url, status, attempts, created_at, updated_at)
       SELECT id, video_url, 'queued', 0, ?, ? FROM live_records WHERE identity IN (?)`,
      [now, now, identities],
    );
  },
  async 'record-session'(tx, identities) {
    await tx.run(
      `UPDATE live_records SET session_id = (SELECT s.id FROM live_streams s WHERE s.room_id = live_records.room_id
         AND s.status IN ('preparing', 'live') ORDER BY s.created_at DESC LIMIT 1)
       WHERE identity IN (?) AND session_id IS NULL AND room_id IS NOT NULL`,
      [identities],
    );
  },
};
