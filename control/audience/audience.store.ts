import { TurnBatcher } from '../../core/event-bus/turn-batcher.js';
import { Op, QueryTypes } from 'sequelize';
import type { Database } from '../../core/database/database.js';
import { liveAudienceTable } from '../../core/database/models/live-audience.model.js';

/** live_audience: one row per viewing, opened at play start and closed at play end. */
export interface AudienceEntry { sessionId: string; roomId: string; userId: string | null; viewerKey: string; at: Date }
interface PendingEntry { input: AudienceEntry; resolve(): void; reject(err: unknown): void }
interface PendingExit { viewerKey: string; at: Date; resolve(watchS: number | null): void; reject(err: unknown): void }

export class AudienceStore {
  private readonly table;
  /**
   * Thousands of viewers can join in a second (a popular show starting): their rows go in batches,
   * one write at a time (a group commit). Each write costs the database driver a fixed ~0.15-0.9 ms
   * of CPU whatever its rows, so joins that arrive while a write is in flight share the next one
   * instead of adding writes (a turn of the event loop may hold a single join). Idle, a join is still
   * written on the next turn. (In bench:media's ramps a turn already held several joins: see
   * docs/benchmarks.md, "The cost of a viewer's join".)
   */
  private readonly entries = new TurnBatcher<PendingEntry>(500, (batch) => this.insert(batch), { maxInFlight: 1 });
  private readonly exits = new TurnBatcher<PendingExit>(500, (batch) => this.close(batch), { maxInFlight: 1 });

  constructor(db: Database) {
    this.table = liveAudienceTable(db.sequelize);
  }

  /** Opens one row per viewing; viewers joining in the same event-loop turn share one multi-row INSERT. */
  enter(input: AudienceEntry): Promise<void> {
    return new Promise<void>((resolve, reject) => this.entries.push({ input, resolve, reject }));
  }

  /**
   * One raw multi-row INSERT for the batch, not `bulkCreate`: the model built an instance per row
   * (~30 us of CPU per row on the join ramp's profile) only to turn it back into the same SQL. The
   * values are written as the model writes them (see insertAudienceRows). No id is read back: enter()
   * returns nothing and exit() finds the row by viewer_key.
   */
  private async insert(batch: PendingEntry[]): Promise<void> {
    try {
      await insertAudienceRows(this.table, batch.map((p) => p.input));
      for (const p of batch) p.resolve();
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }

  /**
   * Closes the viewer's open row; returns the seconds watched, or null when no row was open.
   * Viewers leaving in the same turn (a popular show ending) share one SELECT for their rows.
   */
  exit(viewerKey: string, at: Date): Promise<number | null> {
    return new Promise<number | null>((resolve, reject) => this.exits.push({ viewerKey: viewerKey.slice(0, 64), at, resolve, reject }));
  }

  private async close(batch: PendingExit[]): Promise<void> {
    try {
      // A viewer who leaves while its row still waits for the insert in flight: that row first.
      await this.entries.settled();
      const rows = await this.table.findAll({
        where: { viewer_key: [...new Set(batch.map((p) => p.viewerKey))], exit_at: null },
        attributes: ['id', 'viewer_key', 'enter_at'],
        order: [['id', 'DESC']],
      });
      const open = new Map<string, { id: string | number; enterAt: number }>();
      for (const row of rows) {
        const r = row.get();
        if (r.viewer_key && !open.has(r.viewer_key)) open.set(r.viewer_key, { id: r.id, enterAt: new Date(r.enter_at).getTime() });
      }
      const closing: Array<{ id: string | number; at: Date; watchS: number; p: PendingExit }> = [];
      for (const p of batch) {
        const row = open.get(p.viewerKey);
        if (!row) {
          p.resolve(null);
          continue;
        }
        open.delete(p.viewerKey);
        closing.push({ id: row.id, at: p.at, watchS: Math.max(0, Math.round((p.at.getTime() - row.enterAt) / 1000)), p });
      }
      if (closing.length > 0) await this.closeRows(closing);
      for (const c of closing) c.p.resolve(c.watchS);
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }

  /**
   * One UPDATE for the batch's rows (each its own exit time and watch time, by id), not one per
   * viewer: a show ending with thousands of viewers cost a query's fixed CPU (~0.3-0.7 ms) each.
   * The exit times are written as the model writes a DATE(3) on either dialect (its type's stringify).
   */
  private async closeRows(rows: ReadonlyArray<{ id: string | number; at: Date; watchS: number }>): Promise<void> {
    const sequelize = this.table.sequelize!;
    const date = dateSql(this.table, 'exit_at');
    const id = (v: string | number) => {
      const text = String(v);
      if (!/^\d{1,20}$/.test(text)) throw new TypeError(`live_audience id is not an integer: ${text}`);
      return text;
    };
    const exitAt = rows.map((r) => `WHEN ${id(r.id)} THEN ${date(r.at)}`).join(' ');
    const watch = rows.map((r) => `WHEN ${id(r.id)} THEN ${Math.trunc(r.watchS)}`).join(' ');
    await sequelize.query(
      `UPDATE live_audience SET exit_at = CASE id ${exitAt} END, watch_s = CASE id ${watch} END WHERE exit_at IS NULL AND id IN (${rows.map((r) => id(r.id)).join(', ')})`,
      { type: QueryTypes.UPDATE },
    );
  }

  async countViewers(sessionId: string): Promise<number> {
    return this.table.count({ where: { session_id: sessionId }, distinct: true, col: 'viewer_key' });
  }

  /** The user's viewings (enter/exit through the API), newest first: the watch history. */
  async history(userId: string, page: { limit?: number; before?: string } = {}): Promise<Array<{ id: string; room_id: string; session_id: string; entered_at: string; exited_at: string | null; watch_s: number | null }>> {
    const where = page.before ? { user_id: userId, id: { [Op.lt]: page.before } } : { user_id: userId };
    const rows = await this.table.findAll({ where, order: [['id', 'DESC']], limit: page.limit ?? 100 });
    return rows.map((row) => {
      const r = row.get();
      return {
        id: String(r.id), room_id: String(r.room_id), session_id: r.session_id, entered_at: new Date(r.enter_at).toISOString(),
        exited_at: r.exit_at ? new Date(r.exit_at).toISOString() : null, watch_s: r.watch_s,
      };
    });
  }

  /** Distinct users who entered the session through the API. */
  async countUsers(sessionId: string): Promise<number> {
    return this.table.count({ where: { session_id: sessionId, user_id: { [Op.ne]: null } }, distinct: true, col: 'user_id' });
  }
}

type LiveAudienceTable = ReturnType<typeof liveAudienceTable>;

/**
 * A DATE(3) column's value as the model writes it on either dialect: its type's stringify with the
 * instance's timezone (openDatabase leaves sequelize's default, +00:00), then escaped. SQLite keeps
 * the text ('2026-01-01 00:00:00.005 +00:00'), MariaDB the DATETIME(3) ('2026-01-01 00:00:00.005').
 * That stringify goes through moment (and moment-timezone): ~60 % of the raw INSERT's own CPU on a
 * profile of 20-row batches. With the +00:00 timezone the text is the ISO string's date and time
 * followed by what the dialect's stringify appends, which a probe date reads off the type itself;
 * any other timezone, a probe that does not match, or a year outside 0-9999 take the stringify.
 */
export function dateSql(table: LiveAudienceTable, column: 'enter_at' | 'exit_at'): (at: Date) => string {
  let writers = dateWriters.get(table);
  if (!writers) dateWriters.set(table, (writers = new Map()));
  let writer = writers.get(column);
  if (!writer) writers.set(column, (writer = makeDateSql(table, column)));
  return writer;
}

/** One writer per model and column (the probe costs a moment format): models are per Sequelize instance. */
const dateWriters = new WeakMap<LiveAudienceTable, Map<string, (at: Date) => string>>();

function makeDateSql(table: LiveAudienceTable, column: 'enter_at' | 'exit_at'): (at: Date) => string {
  const sequelize = table.sequelize!;
  const type = table.getAttributes()[column].type as unknown as { stringify(value: Date, options: { timezone?: string }): string };
  const timezone = (sequelize as unknown as { options: { timezone?: string } }).options.timezone;
  const slow = (at: Date) => sequelize.escape(type.stringify(at, { timezone }));
  const probe = type.stringify(new Date(Date.UTC(2001, 1, 3, 4, 5, 6, 7)), { timezone });
  const head = '2001-02-03 04:05:06.007';
  const tail = probe.slice(head.length);
  if (timezone !== '+00:00' || !probe.startsWith(head) || !/^[ +:0-9]*$/.test(tail)) return slow;
  return (at) => {
    const year = at.getUTCFullYear();
    if (!(year >= 0 && year <= 9999)) return slow(at);
    // toISOString: 'YYYY-MM-DDTHH:mm:ss.sssZ'; digits and punctuation only, so quoting is escaping.
    const iso = at.toISOString();
    return `'${iso.slice(0, 10)} ${iso.slice(11, 23)}${tail}'`;
  };
}

/**
 * Inserts live_audience rows with one raw multi-row INSERT through the table's sequelize instance,
 * the values serialized as bulkCreate serialized them (the same SQL but for the `id` column left out
 * instead of written NULL: both dialects then assign the auto-increment id): strings and BIGINT ids
 * through sequelize.escape (a string id stays a quoted literal, a number a number), dates by the
 * column type's stringify. Like the model (sequelize's typeValidation is off), nothing is validated
 * beyond the escaping. Exported for bench/audience-insert.ts.
 */
export async function insertAudienceRows(table: LiveAudienceTable, rows: readonly AudienceEntry[]): Promise<void> {
  if (rows.length === 0) return;
  const sequelize = table.sequelize!;
  const date = dateSql(table, 'enter_at');
  const tuples = rows.map((r) =>
    `(${sequelize.escape(r.sessionId)},${sequelize.escape(r.roomId)},${r.userId == null ? 'NULL' : sequelize.escape(r.userId)},${sequelize.escape(r.viewerKey.slice(0, 64))},${date(r.at)})`);
  await sequelize.query(
    `INSERT INTO live_audience (session_id,room_id,user_id,viewer_key,enter_at) VALUES ${tuples.join(',')}`,
    { type: QueryTypes.INSERT },
  );
}
