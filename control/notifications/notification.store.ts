import { QueryTypes } from 'sequelize';
import type { Database } from '../../core/database/database.js';
import type { Tx } from '../../core/event-bus/db-transaction.js';

const insertIgnore = (dialect: string) => (dialect === 'sqlite' ? 'INSERT OR IGNORE' : 'INSERT IGNORE');

/** One notification to one user (an audit warning to the anchor); dedupe_key keeps a replay from notifying twice. */
export async function insertNotification(tx: Tx, userId: string, kind: string, dedupeKey: string, payload: object): Promise<void> {
  await tx.run(
    `${insertIgnore(tx.dialect)} INTO notifications (user_id, kind, payload, dedupe_key, created_at) VALUES (?, ?, ?, ?, ?)`,
    [userId, kind, JSON.stringify(payload), dedupeKey, Date.now()],
  );
}

/** A notification as GET /notifications lists it and the notification socket pushes it. */
export interface NotificationJson {
  id: string;
  kind: string;
  payload: unknown;
  read_at: string | null;
  created_at: string;
}

interface Row { id: number | string; user_id: number | string; kind: string; payload: string; read_at: number | string | null; created_at: number | string }

export function notificationJson(n: Row): NotificationJson {
  return {
    id: String(n.id), kind: n.kind, payload: parsePayload(n.payload),
    read_at: n.read_at === null ? null : new Date(Number(n.read_at)).toISOString(), created_at: new Date(Number(n.created_at)).toISOString(),
  };
}

function parsePayload(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** The notifications table's reads and the reader's own changes (read marks). */
export class NotificationStore {
  constructor(private readonly db: Database) {}

  private select<T extends object>(sql: string, replacements: unknown[]): Promise<T[]> {
    return this.db.sequelize.query<T>(sql, { replacements, type: QueryTypes.SELECT });
  }

  /** The user's notifications, newest first, below `before` (an id), unread ones only when asked. */
  async list(userId: string, q: { limit: number; before?: string; unread?: boolean }): Promise<Array<NotificationJson & { userId: string }>> {
    const rows = await this.select<Row>(
      `SELECT id, user_id, kind, payload, read_at, created_at FROM notifications WHERE user_id = ?${q.unread ? ' AND read_at IS NULL' : ''}${q.before ? ' AND id < ?' : ''} ORDER BY id DESC LIMIT ?`,
      [userId, ...(q.before ? [q.before] : []), q.limit],
    );
    return rows.map((r) => ({ ...notificationJson(r), userId: String(r.user_id) }));
  }

  async unreadCount(userId: string): Promise<number> {
    const [row] = await this.select<{ n: number | string }>('SELECT COUNT(*) AS n FROM notifications WHERE user_id = ? AND read_at IS NULL', [userId]);
    return Number(row?.n ?? 0);
  }

  /** Whose notification `id` is (null: none such). */
  async ownerOf(id: string): Promise<string | null> {
    const [row] = await this.select<{ user_id: number | string }>('SELECT user_id FROM notifications WHERE id = ?', [id]);
    return row ? String(row.user_id) : null;
  }

  /** Marks one of the user's notifications read (once: the first read time stays); true when it changed. */
  async markRead(userId: string, id: string, now: number): Promise<boolean> {
    const [, changed] = await this.db.sequelize.query('UPDATE notifications SET read_at = ? WHERE id = ? AND user_id = ? AND read_at IS NULL', {
      replacements: [now, id, userId], type: QueryTypes.UPDATE,
    });
    return Number(changed) > 0;
  }

  /** Marks every unread notification of the user read; the number it changed. */
  async markAllRead(userId: string, now: number): Promise<number> {
    const [, changed] = await this.db.sequelize.query('UPDATE notifications SET read_at = ? WHERE user_id = ? AND read_at IS NULL', {
      replacements: [now, userId], type: QueryTypes.UPDATE,
    });
    return Number(changed);
  }

  async get(id: string): Promise<(NotificationJson & { userId: string }) | null> {
    const [row] = await this.select<Row>('SELECT id, user_id, kind, payload, read_at, created_at FROM notifications WHERE id = ?', [id]);
    return row ? { ...notificationJson(row), userId: String(row.user_id) } : null;
  }

  /** The notifications one dedupe key gave these users (what a fan-out chunk wrote), to push them. */
  async byDedupeKey(dedupeKey: string, userIds: string[]): Promise<Array<NotificationJson & { userId: string }>> {
    if (userIds.length === 0) return [];
    const rows = await this.select<Row>(
      `SELECT id, user_id, kind, payload, read_at, created_at FROM notifications WHERE dedupe_key = ? AND user_id IN (${userIds.map(() => '?').join(', ')})`,
      [dedupeKey, ...userIds],
    );
    return rows.map((r) => ({ ...notificationJson(r), userId: String(r.user_id) }));
  }
}
