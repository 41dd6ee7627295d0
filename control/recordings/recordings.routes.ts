import { Router } from 'express';
import { z } from 'zod';
import { QueryTypes } from 'sequelize';
import type { Database } from '../../core/database/database.js';
import { ForbiddenError, NotFoundError } from '../../core/errors.js';
import { asyncRoute } from '../http/async-route.js';
import { requireUser } from '../http/auth.middleware.js';
import { parseInput } from '../http/validate.js';
import { roomParams } from '../rooms/room.schema.js';

const listQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(100).default(20) });

interface RecordRow {
  id: number | string; session_id: string | null; video_url: string; file_format: string; start_time: number | string | null;
  end_time: number | string | null; duration_s: number; file_size: number | string; created_at: number | string;
}

const iso = (ms: number | string | null) => (ms === null ? null : new Date(Number(ms)).toISOString());

/**
 * GET /rooms/{id}/recordings?limit=  the room's finished recordings (live_records), newest first,
 * for the room's owner or an operator. File locations on a media node stay private: `url` is given
 * only when the recording lives at an http(s) URL (a vendor's VOD, object storage).
 */
export function recordingsRoutes(deps: { db: Database; rooms: { findById(id: string): Promise<{ id: string; ownerId: string } | null> } }): Router {
  const r = Router();
  r.get('/rooms/:id/recordings', requireUser, asyncRoute(async (req, res) => {
    const { id } = parseInput(roomParams, req.params, 'params');
    const { limit } = parseInput(listQuery, req.query, 'query');
    const room = await deps.rooms.findById(id);
    if (!room) throw new NotFoundError('no such room', { code: 'room_not_found' });
    if (room.ownerId !== req.user!.id && req.user!.role !== 'operator') throw new ForbiddenError('not your room', { code: 'not_owner' });
    const rows = await deps.db.sequelize.query<RecordRow>(
      'SELECT id, session_id, video_url, file_format, start_time, end_time, duration_s, file_size, created_at FROM live_records WHERE room_id = ? ORDER BY id DESC LIMIT ?',
      { replacements: [room.id, limit], type: QueryTypes.SELECT },
    );
    res.set('Cache-Control', 'no-store').json({
      recordings: rows.map((x) => ({
        id: String(x.id), session_id: x.session_id, format: x.file_format, url: /^https?:\/\//.test(x.video_url) ? x.video_url : null,
        started_at: iso(x.start_time), ended_at: iso(x.end_time), duration_s: Number(x.duration_s), size: Number(x.file_size), created_at: iso(x.created_at),
      })),
    });
  }));
  return r;
}
