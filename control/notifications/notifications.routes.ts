import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { QueryTypes } from 'sequelize';
import type { Database } from '../../core/database/database.js';
import { asyncRoute } from '../http/async-route.js';
import { parseInput } from '../http/validate.js';

const listQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  /** Page backwards: notifications with an id below this one. */
  before: z.string().regex(/^\d{1,19}$/, 'must be a numeric id').optional(),
});

interface NotificationRow { id: number | string; kind: string; payload: string; read_at: number | string | null; created_at: number | string }

/**
 * GET /notifications?limit=&before=  the logged-in user's notifications, newest first
 * (live_started from followed anchors, audit_warning for anchors): `{ notifications, next_before }`.
 * Mount at /api/v1 after authenticate(); `guard` is requireUser.
 */
export function notificationsRoutes(deps: { db: Database; guard: RequestHandler[] }): Router {
  const r = Router();
  r.get('/notifications', ...deps.guard, asyncRoute(async (req, res) => {
    const q = parseInput(listQuery, req.query, 'query');
    const rows = await deps.db.sequelize.query<NotificationRow>(
      `SELECT id, kind, payload, read_at, created_at FROM notifications WHERE user_id = ? ${q.before ? 'AND id < ?' : ''} ORDER BY id DESC LIMIT ?`,
      { replacements: [req.user!.id, ...(q.before ? [q.before] : []), q.limit], type: QueryTypes.SELECT },
    );
    const notifications = rows.map((n) => ({
      id: String(n.id), kind: n.kind, payload: parsePayload(n.payload),
      read_at: n.read_at === null ? null : new Date(Number(n.read_at)).toISOString(), created_at: new Date(Number(n.created_at)).toISOString(),
    }));
    res.set('Cache-Control', 'no-store').json({ notifications, next_before: rows.length === q.limit ? String(rows.at(-1)!.id) : null });
  }));
  return r;
}

function parsePayload(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
