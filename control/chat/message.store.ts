import { QueryTypes } from 'sequelize';
import { dbTimeMs } from '../../core/database/db-time.js';
import type { Database } from '../../core/database/database.js';
import { messagesTable } from '../../core/database/models/chat.models.js';
import type { Logger } from '../../core/logging/logger.js';

/** A reported chat line as the operators' report queue quotes it. */
export interface ReportedMessage {
  text: string;
  /** The author (null: an anonymous or system line). */
  user_id: string | null;
  username: string | null;
  /** Deleted by a moderator since. */
  hidden: boolean;
  at: string;
}

export interface StoredMessage {
  roomId: string;
  sessionId: string | null;
  userId: string | null;
  type: string;
  content: string;
  keptId: string | null;
  videoTs?: number;
  color?: string;
  position?: string;
  at: Date;
}

/**
 * The `messages` table (seed 004), written off the hot path: posts are queued and go in as one
 * multi-row INSERT every `flushMs` (or at once when `maxBatch` are waiting), never one INSERT per
 * message. A failed batch is retried once with the next one, then logged and dropped: chat is
 * already delivered through pub/sub, the table is the record, not the delivery.
 */
export class MessageStore {
  private readonly table;
  private queue: StoredMessage[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  /** Rows inserted and INSERT statements run, for tests and the benchmark. */
  readonly counters = { rows: 0, batches: 0, dropped: 0 };

  constructor(private readonly db: Database, private readonly options: { flushMs?: number; maxBatch?: number; log?: Logger } = {}) {
    this.table = messagesTable(db.sequelize);
  }

  add(message: StoredMessage): void {
    this.queue.push(message);
    if (this.queue.length >= (this.options.maxBatch ?? 500)) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.options.flushMs ?? 250);
  }

  /** Writes what is queued; resolves when every queued row is written (or given up). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.queue.splice(0);
    if (batch.length === 0) return this.flushing;
    this.flushing = this.flushing.then(() => this.insert(batch, true));
    return this.flushing;
  }

  private async insert(batch: StoredMessage[], retry: boolean): Promise<void> {
    try {
      await this.table.bulkCreate(batch.map((m) => ({
        room_id: m.roomId, session_id: m.sessionId, user_id: m.userId, type: m.type, content: m.content, kept_id: m.keptId,
        video_ts: m.videoTs ?? null, color: m.color ?? null, position: m.position ?? null, created_at: m.at,
      })));
      this.counters.rows += batch.length;
      this.counters.batches++;
    } catch (err) {
      if (retry) {
        this.options.log?.warn({ err, rows: batch.length }, 'writing chat messages failed; retrying with the next batch');
        this.queue.unshift(...batch);
        this.timer ??= setTimeout(() => void this.flush(), (this.options.flushMs ?? 250) * 4);
        return;
      }
      this.counters.dropped += batch.length;
      this.options.log?.error({ err, rows: batch.length }, 'chat messages not recorded');
    }
  }

  /** Marks a message hidden (deleted by a moderator); false when no such message in the room. */
  async hide(roomId: string, keptId: string): Promise<boolean> {
    await this.flush();
    const [n] = await this.table.update({ hidden: true }, { where: { room_id: roomId, kept_id: keptId } });
    return n > 0;
  }

  async find(roomId: string, keptId: string): Promise<{ userId: string | null; content: string } | null> {
    await this.flush();
    const row = await this.table.findOne({ where: { room_id: roomId, kept_id: keptId } });
    if (!row) return null;
    const r = row.get();
    return { userId: r.user_id === null ? null : String(r.user_id), content: r.content };
  }

  /**
   * The recorded messages these (room, history id) pairs name, with their author's username, in one
   * read (the operators' report queue quotes the reported lines); keyed `{room_id}:{history id}`.
   * A pair with no recorded message (never written, or a message id of another room) is absent.
   */
  async quote(refs: Array<{ roomId: string; keptId: string }>): Promise<Map<string, ReportedMessage>> {
    const out = new Map<string, ReportedMessage>();
    const keptIds = [...new Set(refs.map((r) => r.keptId))];
    if (keptIds.length === 0) return out;
    await this.flush();
    const rows = await this.db.sequelize.query<{ room_id: string | number; kept_id: string; user_id: string | number | null; username: string | null; content: string; hidden: unknown; created_at: Date | string }>(
      `SELECT m.room_id, m.kept_id, m.user_id, u.username, m.content, m.hidden, m.created_at FROM messages m LEFT JOIN users u ON u.id = m.user_id
        WHERE m.kept_id IN (${keptIds.map(() => '?').join(', ')}) ORDER BY m.id`,
      { replacements: keptIds, type: QueryTypes.SELECT },
    );
    for (const r of rows) {
      const key = `${r.room_id}:${r.kept_id}`;
      if (out.has(key)) continue;
      out.set(key, {
        text: r.content, user_id: r.user_id === null ? null : String(r.user_id), username: r.username ?? null,
        hidden: Boolean(Number(r.hidden)), at: new Date(dbTimeMs(r.created_at)).toISOString(),
      });
    }
    return out;
  }

  /** The room's recorded messages, newest first (operators' console). */
  async list(roomId: string, options: { limit?: number; includeHidden?: boolean } = {}) {
    await this.flush();
    const rows = await this.table.findAll({
      where: { room_id: roomId, ...(options.includeHidden ? {} : { hidden: false }) },
      order: [['id', 'DESC']],
      limit: Math.min(options.limit ?? 100, 500),
    });
    return rows.map((row) => {
      const r = row.get();
      return {
        id: r.kept_id, user_id: r.user_id === null ? null : String(r.user_id), type: r.type, text: r.content,
        ts: r.video_ts === null ? undefined : Number(r.video_ts), color: r.color ?? undefined, position: r.position ?? undefined,
        hidden: Boolean(r.hidden), at: new Date(r.created_at).toISOString(),
      };
    });
  }

  async close(): Promise<void> {
    await this.flush();
    await this.flushing;
  }
}
