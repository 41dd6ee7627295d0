import { QueryTypes } from 'sequelize';
import type { Database } from '../../core/database/database.js';
import { runInTransaction, type Tx } from '../../core/event-bus/db-transaction.js';

/** What an operator can do about an item of the console's audit view. */
export const OPERATOR_ACTIONS = ['dismiss', 'warn', 'pause', 'ban'] as const;
export type OperatorAction = (typeof OPERATOR_ACTIONS)[number];
/** The item acted on: an audit verdict (live_audit_logs), a viewer report (room_reports), an in-room moderation action (room_moderation_log), or a room. */
export const ACTION_SOURCES = ['audit', 'report', 'room_log', 'room'] as const;
export type ActionSource = (typeof ACTION_SOURCES)[number];

export interface OperatorActionRow {
  id: string;
  operator_id: string;
  action: OperatorAction;
  source: ActionSource;
  source_id: string;
  room_id: string | null;
  user_id: string | null;
  reason: string;
  /** A pause's end (ISO). */
  until: string | null;
  created_at: string;
}

interface Row {
  id: number | string; operator_id: number | string; action: string; source: string; source_id: number | string;
  room_id: number | string | null; user_id: number | string | null; reason: string; until: number | string | null; created_at: number | string;
}
const optional = (v: number | string | null) => (v === null ? null : String(v));
const actionRow = (r: Row): OperatorActionRow => ({
  id: String(r.id), operator_id: String(r.operator_id), action: r.action as OperatorAction, source: r.source as ActionSource,
  source_id: String(r.source_id), room_id: optional(r.room_id), user_id: optional(r.user_id), reason: r.reason,
  until: r.until === null ? null : new Date(Number(r.until)).toISOString(), created_at: new Date(Number(r.created_at)).toISOString(),
});

/** moderation_actions (migration 0510), and the reads that find the room an item is about. */
export class OperatorActionStore {
  constructor(private readonly db: Database) {}

  private select<T extends object>(sql: string, replacements: unknown[]): Promise<T[]> {
    return this.db.sequelize.query<T>(sql, { replacements, type: QueryTypes.SELECT });
  }

  /** The room (and, for an audit verdict, the anchor it named) of the item; null when there is no such item. */
  async resolve(source: ActionSource, id: string): Promise<{ roomId: string | null; anchorId: string | null } | null> {
    const sql = {
      audit: 'SELECT room_id, anchor_id FROM live_audit_logs WHERE id = ?',
      report: 'SELECT room_id, NULL AS anchor_id FROM room_reports WHERE id = ?',
      room_log: 'SELECT room_id, NULL AS anchor_id FROM room_moderation_log WHERE id = ?',
      room: 'SELECT id AS room_id, owner_id AS anchor_id FROM rooms WHERE id = ?',
    }[source];
    const [row] = await this.select<{ room_id: number | string | null; anchor_id: number | string | null }>(sql, [id]);
    return row ? { roomId: optional(row.room_id), anchorId: optional(row.anchor_id) } : null;
  }

  /** Writes the action, and whatever must commit with it (`also`: the anchor's notification, the report closed), in one transaction. */
  async add(input: Omit<OperatorActionRow, 'id' | 'until' | 'created_at'> & { until: number | null; at: number }, also?: (tx: Tx, id: string) => Promise<void>): Promise<string> {
    return runInTransaction(this.db, async (tx) => {
      const id = await tx.insert(
        'INSERT INTO moderation_actions (operator_id, action, source, source_id, room_id, user_id, reason, until, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
        [input.operator_id, input.action, input.source, input.source_id, input.room_id, input.user_id, input.reason.slice(0, 512), input.until, input.at],
      );
      await also?.(tx, id);
      return id;
    });
  }

  async list(filter: { roomId?: string; source?: ActionSource; sourceId?: string; limit: number; offset: number }): Promise<{ total: number; actions: OperatorActionRow[] }> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.roomId) (where.push('room_id = ?'), args.push(filter.roomId));
    if (filter.source) (where.push('source = ?'), args.push(filter.source));
    if (filter.sourceId) (where.push('source_id = ?'), args.push(filter.sourceId));
    const from = `FROM moderation_actions ${where.length ? `WHERE ${where.join(' AND ')}` : ''}`;
    const [count] = await this.select<{ n: number | string }>(`SELECT COUNT(*) AS n ${from}`, args);
    const rows = await this.select<Row>(`SELECT * ${from} ORDER BY id DESC LIMIT ? OFFSET ?`, [...args, filter.limit, filter.offset]);
    return { total: Number(count?.n ?? 0), actions: rows.map(actionRow) };
  }
}
