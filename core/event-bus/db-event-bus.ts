import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { QueryTypes } from 'sequelize';
import type { Database } from '../database/database.js';
import type { Logger } from '../logging/logger.js';
import { silentLogger } from '../logging/logger.js';
import { InvalidStateError, UnavailableError } from '../errors.js';
import type {
  AnyDelivery, BusHandler, ConsumeOptions, Consumer, DeadLetter, EventBus, EventCatalog, PublishOptions,
} from './event-bus.port.js';
import { ConsumerLoop, resolveConsumeOptions, type ConsumerBackend } from './consumer-loop.js';
import { isLockConflict, runInTransaction, type Tx } from './db-transaction.js';

interface PendingPublish { name: string; payload: string; key: string | null; version: number; resolve(id: string): void; reject(err: unknown): void }

type Row = Record<string, unknown>;

/** Publishes are written in groups of at most this many rows per INSERT (group commit). */
const MAX_PUBLISH_BATCH = 500;

/**
 * The embedded event bus: a durable table in the application database (SQLite or MySQL/MariaDB).
 *
 * publish() inserts the event and, in the same transaction, one pending row per registered consumer
 * group, so a group never depends on reading ids in commit order (auto-increment ids can commit out
 * of order under concurrency; a cursor would skip them). Consumers lease pending rows whose
 * visible_at has passed, in event id order, by stamping them with a lease token and pushing
 * visible_at one visibility timeout ahead: a crashed consumer's rows simply become visible again.
 * Publishes made in one event-loop turn share one transaction; an in-process publish wakes local
 * consumers at once, other processes find the rows on their next poll.
 */
export class DbEventBus<E extends EventCatalog> implements EventBus<E> {
  readonly kind = 'db' as const;
  private readonly wake = new EventEmitter();
  private readonly consumers = new Set<Consumer>();
  private queue: PendingPublish[] = [];
  private flushScheduled = false;
  private closed = false;
  private readonly log: Logger;

  constructor(private readonly db: Database, options: { log?: Logger } = {}) {
    this.log = options.log ?? silentLogger();
    this.wake.setMaxListeners(0);
  }

  publish<N extends keyof E & string>(name: N, payload: E[N], options: PublishOptions = {}): Promise<string> {
    if (this.closed) return Promise.reject(new InvalidStateError('event bus is closed'));
    return new Promise<string>((resolve, reject) => {
      this.queue.push({ name, payload: JSON.stringify(payload), key: options.key ?? null, version: options.version ?? 1, resolve, reject });
      if (this.queue.length >= MAX_PUBLISH_BATCH) void this.flush();
      else if (!this.flushScheduled) {
        this.flushScheduled = true;
        this.scheduleFlush();
      }
    });
  }

  /**
   * Group commit: SQLite pays one fsync per commit, so publishes wait up to 2 ms for company; a
   * server database commits concurrently anyway, so the next turn of the event loop is enough.
   */
  private scheduleFlush(): void {
    if (this.db.dialect === 'sqlite') setTimeout(() => void this.flush(), 2);
    else setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    this.flushScheduled = false;
    const batch = this.queue.splice(0, MAX_PUBLISH_BATCH);
    if (batch.length === 0) return;
    if (this.queue.length > 0 && !this.flushScheduled) {
      this.flushScheduled = true;
      this.scheduleFlush();
    }
    try {
      const ids = await this.appendWithRetry(batch);
      batch.forEach((p, i) => p.resolve(String(ids[i])));
      this.wake.emit('published');
    } catch (cause) {
      const err = new UnavailableError(`could not append to the event bus: ${(cause as Error)?.message ?? String(cause)}`, { cause });
      for (const p of batch) p.reject(err);
    }
  }

  /**
   * Appends the batch in one transaction. On MariaDB a publish can deadlock with consumers leasing
   * bus_pending rows (InnoDB then rolls one side back): the publish is pure database work, so it is
   * run again, a few times, before the publisher hears of it.
   */
  private async appendWithRetry(batch: PendingPublish[]): Promise<number[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await runInTransaction(this.db, (tx) => this.append(tx, batch));
      } catch (err) {
        if (attempt >= 4 || !isLockConflict(err)) throw err;
        await new Promise((r) => setTimeout(r, 5 * attempt + Math.random() * 10));
      }
    }
  }

  private async append(tx: Tx, batch: PendingPublish[]): Promise<number[]> {
    const now = Date.now();
    const insert = `INSERT INTO bus_events (name, msg_key, payload, version, created_at) VALUES ${batch.map(() => '(?, ?, ?, ?, ?)').join(', ')}`;
    const replacements = batch.flatMap((p) => [p.name, p.key, p.payload, p.version, now]);
    let eventIds: number[];
    if (tx.dialect === 'mysql') {
      const rows = await tx.select<{ id: number | string }>(`${insert} RETURNING id`, replacements);
      eventIds = rows.map((r) => Number(r.id)).sort((a, b) => a - b);
    } else {
      // SQLite has one writer and this transaction holds it, and only these serialized flushes write
      // bus_events: the rows got consecutive ids ending at MAX(id). (Not last_insert_rowid(): an
      // in-memory database shares its connection with statements running meanwhile.)
      await tx.run(insert, replacements);
      const [{ id: last }] = await tx.select<{ id: number }>('SELECT MAX(id) AS id FROM bus_events') as [{ id: number }];
      eventIds = batch.map((_, i) => Number(last) - batch.length + 1 + i);
    }
    const groups = await tx.select<{ name: string }>('SELECT name FROM bus_groups');
    if (groups.length > 0) {
      const values: unknown[] = [];
      for (const g of groups) for (const id of eventIds) values.push(g.name, id, 0);
      await tx.run(`INSERT INTO bus_pending (group_name, event_id, attempts, visible_at) VALUES ${Array.from({ length: values.length / 3 }, () => '(?, ?, 0, ?)').join(', ')}`, values);
    }
    return eventIds;
  }

  consume(group: string, handler: BusHandler<E>, options?: ConsumeOptions): Consumer {
    if (this.closed) throw new InvalidStateError('event bus is closed');
    const resolved = resolveConsumeOptions(options);
    const backend = new DbConsumerBackend(this.db, group, resolved.consumer, resolved.visibilityTimeoutMs, this.wake);
    const loop = new ConsumerLoop(group, handler as unknown as BusHandler<EventCatalog>, backend, resolved,
      this.log.child({ mod: 'event-bus', group, consumer: resolved.consumer }), () => this.consumers.delete(loop));
    this.consumers.add(loop);
    return loop;
  }

  /** Registers a group so publishes create its pending rows; a new group starts with every stored event. */
  async ensureGroup(group: string): Promise<void> {
    await ensureGroup(this.db, group);
  }

  async listDead(options: { group?: string; limit?: number } = {}): Promise<DeadLetter[]> {
    const rows = await this.db.sequelize.query<Row>(
      `SELECT * FROM bus_dead ${options.group ? 'WHERE group_name = ?' : ''} ORDER BY id LIMIT ?`,
      { replacements: [...(options.group ? [options.group] : []), options.limit ?? 100], type: QueryTypes.SELECT },
    );
    return rows.map((r) => ({
      id: String(r.id), group: String(r.group_name), eventId: String(r.event_id), name: String(r.name),
      payload: JSON.parse(String(r.payload)) as unknown, key: (r.msg_key as string | null) ?? null,
      attempts: Number(r.attempts), lastError: String(r.last_error ?? ''), deadAt: Number(r.dead_at),
    }));
  }

  async backlog(group: string, options: { names?: string[] } = {}): Promise<number> {
    const names = options.names;
    const byName = names && names.length > 0;
    const known = await this.db.sequelize.query<{ n: number }>('SELECT COUNT(*) AS n FROM bus_groups WHERE name = ?',
      { replacements: [group], type: QueryTypes.SELECT });
    const [row] = Number(known[0]?.n ?? 0) > 0
      ? await this.db.sequelize.query<{ n: number }>(
        byName
          ? 'SELECT COUNT(*) AS n FROM bus_pending p JOIN bus_events e ON e.id = p.event_id WHERE p.group_name = ? AND e.name IN (?)'
          : 'SELECT COUNT(*) AS n FROM bus_pending WHERE group_name = ?',
        { replacements: byName ? [group, names] : [group], type: QueryTypes.SELECT })
      // Not registered yet: its first consumer starts with every stored event (ensureGroup).
      : await this.db.sequelize.query<{ n: number }>(
        `SELECT COUNT(*) AS n FROM bus_events${byName ? ' WHERE name IN (?)' : ''}`,
        { replacements: byName ? [names] : [], type: QueryTypes.SELECT });
    return Number(row?.n ?? 0);
  }

  async countDead(): Promise<Record<string, number>> {
    const rows = await this.db.sequelize.query<{ g: string; n: number }>(
      'SELECT group_name AS g, COUNT(*) AS n FROM bus_dead GROUP BY group_name', { type: QueryTypes.SELECT });
    return Object.fromEntries(rows.map((r) => [String(r.g), Number(r.n)]));
  }

  async replayDead(id: string | 'all', options: { group?: string } = {}): Promise<number> {
    const count = await runInTransaction(this.db, async (tx) => {
      const where = id === 'all' ? (options.group ? 'WHERE group_name = ?' : '') : 'WHERE id = ?';
      const params = id === 'all' ? (options.group ? [options.group] : []) : [Number(id)];
      const rows = await tx.select<Row>(`SELECT id, group_name, event_id FROM bus_dead ${where}`, params);
      for (const r of rows) {
        await tx.run(`${insertIgnore(this.db)} INTO bus_pending (group_name, event_id, attempts, visible_at) VALUES (?, ?, 0, 0)`, [r.group_name, r.event_id]);
        await tx.run('DELETE FROM bus_dead WHERE id = ?', [r.id]);
      }
      return rows.length;
    });
    if (count > 0) this.wake.emit('published');
    return count;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.consumers].map((c) => c.stop()));
    while (this.queue.length > 0) await this.flush();
  }
}

const insertIgnore = (db: Database) => (db.dialect === 'mysql' ? 'INSERT IGNORE' : 'INSERT OR IGNORE');

async function ensureGroup(db: Database, group: string): Promise<void> {
  await runInTransaction(db, async (tx) => {
    const existing = await tx.select('SELECT name FROM bus_groups WHERE name = ?', [group]);
    if (existing.length > 0) return;
    await tx.run(`${insertIgnore(db)} INTO bus_groups (name, created_at) VALUES (?, ?)`, [group, Date.now()]);
    await tx.run(`${insertIgnore(db)} INTO bus_pending (group_name, event_id, attempts, visible_at) SELECT ?, id, 0, 0 FROM bus_events`, [group]);
  });
}

/** One consumer's view of the pending table. */
class DbConsumerBackend implements ConsumerBackend {
  private groupReady = false;
  private waiter?: () => void;
  private nextRetryAt = Infinity;

  constructor(
    private readonly db: Database,
    private readonly group: string,
    private readonly consumer: string,
    private readonly visibilityMs: number,
    private readonly wake: EventEmitter,
  ) {}

  async fetch(max: number, waitMs: number): Promise<Array<AnyDelivery<EventCatalog>>> {
    if (!this.groupReady) {
      await ensureGroup(this.db, this.group);
      this.groupReady = true;
    }
    const leased = await this.lease(max);
    if (leased.length > 0) return leased;
    // Nothing due: sleep until a local publish, the next retry we scheduled, or the poll interval.
    const wait = Math.max(0, Math.min(waitMs, this.nextRetryAt - Date.now()));
    if (this.nextRetryAt <= Date.now() + wait) this.nextRetryAt = Infinity;
    await new Promise<void>((resolve) => {
      const done = () => { clearTimeout(timer); this.wake.off('published', done); this.waiter = undefined; resolve(); };
      const timer = setTimeout(done, wait);
      this.wake.on('published', done);
      this.waiter = done;
    });
    return [];
  }

  private async lease(max: number): Promise<Array<AnyDelivery<EventCatalog>>> {
    const q = this.db.sequelize;
    const now = Date.now();
    const due = await q.query<{ event_id: number }>(
      'SELECT event_id FROM bus_pending WHERE group_name = ? AND visible_at <= ? ORDER BY event_id LIMIT ?',
      { replacements: [this.group, now, max], type: QueryTypes.SELECT },
    );
    if (due.length === 0) return [];
    const lease = randomBytes(12).toString('hex');
    // visible_at <= now again: two consumers that selected the same rows cannot both lease them.
    await q.query(
      'UPDATE bus_pending SET owner = ?, lease = ?, visible_at = ?, attempts = attempts + 1 WHERE group_name = ? AND event_id IN (?) AND visible_at <= ?',
      { replacements: [this.consumer, lease, now + this.visibilityMs, this.group, due.map((d) => d.event_id), now] },
    );
    const rows = await q.query<Row>(
      `SELECT p.event_id, p.attempts, e.name, e.msg_key, e.payload, e.version, e.created_at FROM bus_pending p
         JOIN bus_events e ON e.id = p.event_id WHERE p.group_name = ? AND p.lease = ? ORDER BY p.event_id`,
      { replacements: [this.group, lease], type: QueryTypes.SELECT },
    );
    return rows.map((r) => ({
      id: String(r.event_id), name: String(r.name), payload: JSON.parse(String(r.payload)) as object,
      key: (r.msg_key as string | null) ?? null, version: Number(r.version ?? 1), attempt: Number(r.attempts), publishedAt: Number(r.created_at),
    }));
  }

  async ack(deliveries: Array<AnyDelivery<EventCatalog>>): Promise<void> {
    await this.db.sequelize.query('DELETE FROM bus_pending WHERE group_name = ? AND event_id IN (?)',
      { replacements: [this.group, deliveries.map((d) => Number(d.id))] });
  }

  async retry(delivery: AnyDelivery<EventCatalog>, error: Error, retryAt: number): Promise<void> {
    await this.db.sequelize.query(
      'UPDATE bus_pending SET visible_at = ?, last_error = ?, owner = NULL, lease = NULL WHERE group_name = ? AND event_id = ?',
      { replacements: [retryAt, describe(error), this.group, Number(delivery.id)] },
    );
    this.nextRetryAt = Math.min(this.nextRetryAt, retryAt);
  }

  async deadLetter(delivery: AnyDelivery<EventCatalog>, error: Error): Promise<void> {
    await runInTransaction(this.db, async (tx) => {
      await tx.run(
        `${insertIgnore(this.db)} INTO bus_dead (group_name, event_id, name, msg_key, payload, attempts, last_error, dead_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        [this.group, Number(delivery.id), delivery.name, delivery.key, JSON.stringify(delivery.payload), delivery.attempt, describe(error), Date.now()],
      );
      await tx.run('DELETE FROM bus_pending WHERE group_name = ? AND event_id = ?', [this.group, Number(delivery.id)]);
    });
  }

  interrupt(): void {
    this.waiter?.();
  }

  async close(): Promise<void> {}
}

/** The error text kept with a retry or dead letter: name and message, bounded. */
export function describe(error: Error): string {
  return `${error.name}: ${error.message}`.slice(0, 2000);
}
