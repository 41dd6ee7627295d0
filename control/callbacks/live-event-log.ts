import { QueryTypes } from 'sequelize';
import type { Database } from '../../core/database/database.js';
import type { Logger } from '../../core/logging/logger.js';

export type LiveEventStatus = 'accepted' | 'refused' | 'processed' | 'retried' | 'dead';

/** Which edge an event came through: the vendor receiver, the engine in-process, its signed HTTP callbacks, a media-server hook, or control itself. */
export type EdgeSource = 'css' | 'media' | 'media-http' | 'hook' | 'control';

export interface LiveEventEntry {
  status: LiveEventStatus;
  source: EdgeSource;
  /** The event id (domain event), or a vendor identity for refusals. */
  identity?: string | null;
  /** The domain event's name (refused vendor callbacks have none). */
  eventName?: string | null;
  /** The vendor's event_type, on refusals of vendor callbacks. */
  eventType?: number | null;
  streamName?: string | null;
  sequence?: string | null;
  reason?: string | null;
  busId?: string | null;
  attempt?: number | null;
  /** Stored as JSON, cut to 4 KB; never include a signature or a stream_param. */
  body?: unknown;
}

export interface LiveEventRow {
  id: number;
  identity: string | null;
  source: string;
  event_name: string | null;
  event_type: number | null;
  stream_name: string | null;
  status: LiveEventStatus;
  reason: string | null;
  bus_id: string | null;
  attempt: number | null;
  body: string | null;
  created_at: number;
}

const MAX_BODY = 4096;
const COLUMNS = 'identity, source, event_name, event_type, stream_name, sequence, status, reason, bus_id, attempt, body, created_at';

/**
 * live_events: the troubleshooting log of every callback and domain event (seed 000: 回调事件日志) and each status it
 * reaches: accepted, refused (why), processed, retried, dead. Append-only, so the receiver and the
 * consumer never race on one row. Rows are written in batches (one multi-row INSERT per flush) so
 * logging does not cap the receiver's rate; the durable record of an event is the bus itself, and a
 * crash can lose at most the last flush interval of log lines, never an event.
 */
export class LiveEventLog {
  private buffer: unknown[][] = [];
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;
  private closed = false;
  private dropped = 0;

  constructor(
    private readonly db: Database,
    private readonly options: { log?: Logger; flushMs?: number; maxBatch?: number; maxBuffered?: number } = {},
  ) {}

  write(e: LiveEventEntry): void {
    if (this.closed) return;
    let body: string | null = null;
    if (e.body !== undefined) {
      const json = typeof e.body === 'string' ? e.body : JSON.stringify(e.body);
      body = json.length > MAX_BODY ? `${json.slice(0, MAX_BODY)}…` : json;
    }
    if (this.buffer.length >= (this.options.maxBuffered ?? 50_000)) {
      this.buffer.shift(); // database unreachable for long: keep the newest lines
      this.dropped++;
    }
    this.buffer.push([
      e.identity?.slice(0, 191) ?? null, e.source, e.eventName ?? null, e.eventType ?? null, e.streamName?.slice(0, 191) ?? null,
      e.sequence?.slice(0, 64) ?? null, e.status, e.reason?.slice(0, 512) ?? null, e.busId ?? null, e.attempt ?? null,
      body, Date.now(),
    ]);
    if (this.buffer.length >= (this.options.maxBatch ?? 500)) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.options.flushMs ?? 50).unref();
  }

  /** Writes what is buffered; resolves when written (or when the write failed and was re-queued). */
  flush(): Promise<void> {
    if (this.timer) { clearTimeout(this.timer); this.timer = undefined; }
    this.flushing = (this.flushing ?? Promise.resolve()).then(() => this.writeBatch());
    return this.flushing;
  }

  private async writeBatch(): Promise<void> {
    while (this.buffer.length > 0) {
      const rows = this.buffer.splice(0, this.options.maxBatch ?? 500);
      try {
        await this.db.sequelize.query(
          `INSERT INTO live_events (${COLUMNS}) VALUES ${rows.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
          { replacements: rows.flat() },
        );
      } catch (err) {
        this.buffer.unshift(...rows);
        this.options.log?.warn({ err, buffered: this.buffer.length }, 'live_events write failed; will retry');
        if (!this.closed) this.timer ??= setTimeout(() => void this.flush(), 1000).unref();
        return;
      }
    }
    if (this.dropped > 0) {
      this.options.log?.warn({ dropped: this.dropped }, 'live_events lines dropped while the database was unreachable');
      this.dropped = 0;
    }
  }

  /** The log lines of one event identity, oldest first (tests, the CLI). */
  async history(identity: string): Promise<LiveEventRow[]> {
    await this.flush();
    return this.db.sequelize.query<LiveEventRow>(`SELECT * FROM live_events WHERE identity = ? ORDER BY id`,
      { replacements: [identity], type: QueryTypes.SELECT });
  }

  /** The newest lines, optionally of one status. */
  async recent(options: { status?: LiveEventStatus; limit?: number } = {}): Promise<LiveEventRow[]> {
    await this.flush();
    return this.db.sequelize.query<LiveEventRow>(
      `SELECT * FROM live_events ${options.status ? 'WHERE status = ?' : ''} ORDER BY id DESC LIMIT ?`,
      { replacements: [...(options.status ? [options.status] : []), options.limit ?? 100], type: QueryTypes.SELECT });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
