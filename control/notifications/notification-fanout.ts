import { setImmediate as turn } from 'node:timers/promises';
import { QueryTypes } from 'sequelize';
import type { Database } from '../../core/database/database.js';
import { runInTransaction, type Tx } from '../../core/event-bus/db-transaction.js';
import type { Logger } from '../../core/logging/logger.js';
import type { NotificationPush } from './notification-push.js';

const insertIgnore = (dialect: string) => (dialect === 'sqlite' ? 'INSERT OR IGNORE' : 'INSERT IGNORE');

/** Enqueues the announcement of `dedupeKey` to every follower of the anchor, in the caller's transaction (once per key). */
export async function enqueueFollowerFanout(tx: Tx, anchorId: string, kind: string, dedupeKey: string, payload: object): Promise<void> {
  await tx.run(
    `${insertIgnore(tx.dialect)} INTO notification_fanouts (anchor_id, kind, dedupe_key, payload, cursor_user, written, status, lease_until, created_at) VALUES (?, ?, ?, ?, 0, 0, 'pending', 0, ?)`,
    [anchorId, kind, dedupeKey, JSON.stringify(payload), Date.now()],
  );
}

interface JobRow { id: number | string; anchor_id: number | string; kind: string; dedupe_key: string; payload: string; cursor_user: number | string; written: number | string; lease_until: number | string; created_at: number | string }

export interface FanoutResult { jobId: string; written: number; pushed: number; chunks: number; ms: number }

export interface NotificationFanoutDeps {
  db: Database;
  push: Pick<NotificationPush, 'byDedupeKey'>;
  /** Followers per multi-row INSERT (and per transaction). */
  batch: number;
  /** How long a claimed job is this node's before another may take it over. */
  leaseMs: number;
  /** How often to look for jobs nobody works on (another node's crash, an enqueue elsewhere). */
  pollMs?: number;
  log: Logger;
  /** Called after each finished job (benchmarks, tests). */
  onDone?: (result: FanoutResult) => void;
}

/**
 * The go-live fan-out: an anchor with 100,000 followers must not hold the event consumer, a
 * transaction or the event loop for the whole list. The session.live handler only enqueues a job
 * (notification_fanouts, committed with the event's processed marker); this worker walks the
 * followers in user id order, `batch` at a time: one multi-row INSERT IGNORE ... SELECT of that id
 * range's notifications and the job's cursor in one short transaction, then the chunk's rows pushed to live sockets, then a turn
 * of the event loop. A crash mid-way resumes at the cursor (the unique (user_id, dedupe_key) index
 * makes a redone chunk write nothing twice; its pushes may repeat, clients dedupe by id). The job is
 * leased (lease_until) so that with several control nodes one works on it at a time; the lease is
 * renewed with every chunk.
 */
export class NotificationFanout {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(private readonly deps: NotificationFanoutDeps) {}

  start(): void {
    if (this.timer) return;
    this.stopped = false;
    this.timer = setInterval(() => this.kick(), this.deps.pollMs ?? 5_000);
    this.timer.unref();
    this.kick();
  }

  /** Looks for work now (the session.live handler calls it after enqueueing). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .catch((err: unknown) => this.deps.log.error({ err }, 'notification fan-out failed'))
      .finally(() => {
        this.running = undefined;
        if (this.again && !this.stopped) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** Resolves when no job is being worked on by this node (tests, benchmarks). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.idle();
  }

  private async drain(): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      const job = await this.claim();
      if (!job) return;
      await this.run(job);
    }
  }

  private async claim(): Promise<JobRow | null> {
    const now = Date.now();
    const rows = await this.deps.db.sequelize.query<JobRow>(
      "SELECT * FROM notification_fanouts WHERE status = 'pending' AND lease_until < ? ORDER BY id LIMIT 5", { replacements: [now], type: QueryTypes.SELECT },
    );
    for (const row of rows) {
      const [, changed] = await this.deps.db.sequelize.query('UPDATE notification_fanouts SET lease_until = ? WHERE id = ? AND lease_until = ? AND status = ?', {
        replacements: [now + this.deps.leaseMs, row.id, row.lease_until, 'pending'], type: QueryTypes.UPDATE,
      });
      if (Number(changed) === 1) return row;
    }
    return null;
  }

  private async run(job: JobRow): Promise<void> {
    const started = Date.now();
    const { db, batch, leaseMs } = this.deps;
    let cursor = String(job.cursor_user);
    let written = 0;
    let pushed = 0;
    let chunks = 0;
    const createdAt = Date.now();
    for (;;) {
      if (this.stopped) {
        // Stopping (shutdown): hand the job back at its cursor, so a restart or another node resumes it now, not after the lease.
        await db.sequelize.query('UPDATE notification_fanouts SET lease_until = 0 WHERE id = ? AND cursor_user = ?', { replacements: [job.id, cursor] });
        return;
      }
      const followers = (await db.sequelize.query<{ user_id: number | string }>(
        'SELECT user_id FROM follows WHERE anchor_id = ? AND user_id > ? ORDER BY user_id LIMIT ?', { replacements: [job.anchor_id, cursor, batch], type: QueryTypes.SELECT },
      )).map((r) => String(r.user_id));
      if (followers.length === 0) break;
      const last = followers.at(-1)!;
      const kept = await runInTransaction(db, async (tx) => {
        // Still ours? A node that lost its lease (a long pause) must not move another node's cursor back.
        const moved = await tx.update(
          'UPDATE notification_fanouts SET cursor_user = ?, written = written + ?, lease_until = ? WHERE id = ? AND cursor_user = ?',
          [last, followers.length, Date.now() + leaseMs, job.id, cursor],
        );
        if (moved !== 1) return false;
        // One multi-row INSERT of exactly this chunk's followers (the id range just read), built by
        // the database: five parameters instead of five per row to format and parse.
        await tx.run(
          `${insertIgnore(tx.dialect)} INTO notifications (user_id, kind, payload, dedupe_key, created_at)
           SELECT user_id, ?, ?, ?, ? FROM follows WHERE anchor_id = ? AND user_id > ? AND user_id <= ?`,
          [job.kind, job.payload, job.dedupe_key, createdAt, job.anchor_id, cursor, last],
        );
        return true;
      });
      if (!kept) {
        this.deps.log.warn({ jobId: String(job.id) }, 'notification fan-out taken over by another node');
        return;
      }
      cursor = last;
      written += followers.length;
      chunks += 1;
      pushed += await this.deps.push.byDedupeKey(job.dedupe_key, followers)
        .catch((err: unknown) => { this.deps.log.warn({ err, jobId: String(job.id) }, 'pushing a fan-out chunk to live sockets failed'); return 0; });
      await turn(); // the event loop serves requests between chunks
      if (followers.length < batch) break;
    }
    await db.sequelize.query("UPDATE notification_fanouts SET status = 'done', finished_at = ? WHERE id = ? AND cursor_user = ?", { replacements: [Date.now(), job.id, cursor] });
    const result = { jobId: String(job.id), written, pushed, chunks, ms: Date.now() - started };
    this.deps.log.info({ ...result, anchorId: String(job.anchor_id), kind: job.kind }, 'notification fan-out done');
    this.deps.onDone?.(result);
  }
}
