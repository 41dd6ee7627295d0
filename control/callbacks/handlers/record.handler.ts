import type { RecordDone } from '../../../core/media/media-contract.js';
import type { CallbackHandler } from '../callback-consumer.js';
import type { CallbackHandlerDeps } from './handler-deps.js';

/**
 * record (event_type 100): a live_records row (session, room, file url/path, duration, size,
 * format, start/end) and a queued transcode_jobs row for the transcoder, both committed with the
 * processed marker: the job is durable the moment the callback counts as handled.
 */
export function recordHandler(deps: CallbackHandlerDeps): CallbackHandler {
  return async (ctx) => {
    const { event } = ctx;
    const b = event.body;
    const media = event.source !== 'css' ? (b as unknown as RecordDone) : null;
    const room = await deps.rooms.findById(event.streamName);
    const sessionId = media?.sessionId ?? (room ? (await deps.sessionStore.findActiveByRoom(room.id))?.id : undefined) ?? null;
    const row = media
      ? { url: media.path, fileId: null, format: 'flv', start: media.startedAt, end: media.endedAt, duration: Math.round(media.durationMs / 1000), size: media.size }
      : {
          url: String(b.video_url), fileId: b.file_id !== undefined ? String(b.file_id) : null, format: String(b.file_format ?? 'flv'),
          start: b.start_time !== undefined ? Number(b.start_time) * 1000 : null, end: b.end_time !== undefined ? Number(b.end_time) * 1000 : null,
          duration: Number(b.duration ?? 0), size: Number(b.file_size ?? 0),
        };
    await ctx.commit(async (tx) => {
      const now = Date.now();
      await tx.run(
        `INSERT INTO live_records (identity, session_id, room_id, stream_name, video_url, file_id, file_format, start_time, end_time, duration_s, file_size, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [event.identity, sessionId, room?.id ?? null, event.streamName, row.url.slice(0, 1024), row.fileId, row.format.slice(0, 16), row.start, row.end, row.duration, row.size, now],
      );
      const [rec] = await tx.select<{ id: number }>('SELECT id FROM live_records WHERE identity = ?', [event.identity]);
      await tx.run('INSERT INTO transcode_jobs (record_id, source_url, status, attempts, created_at, updated_at) VALUES (?, ?, ?, 0, ?, ?)',
        [rec!.id, row.url.slice(0, 1024), 'queued', now, now]);
    });
  };
}
