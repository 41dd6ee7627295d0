import { QueryTypes } from 'sequelize';
import type { Cache } from '../../core/cache/cache.port.js';
import type { Database } from '../../core/database/database.js';
import type { Logger } from '../../core/logging/logger.js';

export interface LiveEventsPrunerDeps {
  db: Database;
  cache: Cache;
  /** config.callbacks.eventsRetention: rows older than this go; 0 keeps everything. */
  retentionMs: number;
  /** How often to prune (default hourly). */
  intervalMs?: number;
  /** Rows deleted per statement, so a large backlog never holds a long lock. */
  batch?: number;
  log: Logger;
  now?: () => number;
}

/**
 * live_events is a troubleshooting log, not a record: without a limit it grows with every
 * callback for ever. Rows older than the retention are deleted in batches of ids (one SELECT and
 * one DELETE ... IN per batch, the same on SQLite and MySQL). With several control nodes one
 * prunes at a time (lock:live-events-prune); deleting twice would be harmless anyway.
 */
export class LiveEventsPruner {
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;
  private readonly now: () => number;

  constructor(private readonly deps: LiveEventsPrunerDeps) {
    this.now = deps.now ?? Date.now;
  }

  start(): void {
    if (this.timer || this.deps.retentionMs <= 0) return;
    const tick = () => {
      if (this.running) return;
      this.running = this.pruneIfFree()
        .catch((err: unknown) => { this.deps.log.error({ err }, 'live_events pruning failed'); return 0; })
        .finally(() => { this.running = undefined; });
    };
    this.timer = setInterval(tick, this.deps.intervalMs ?? 3_600_000);
    this.timer.unref();
    setImmediate(tick); // a node that restarts often still prunes
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private async pruneIfFree(): Promise<number> {
    const holdMs = Math.max(60_000, Math.floor((this.deps.intervalMs ?? 3_600_000) / 2));
    if (!(await this.deps.cache.setIfAbsent('lock:live-events-prune', String(process.pid), holdMs))) return 0;
    return this.prune();
  }

  /** Deletes every row older than the retention; returns how many. */
  async prune(): Promise<number> {
    if (this.deps.retentionMs <= 0) return 0;
    const cutoff = this.now() - this.deps.retentionMs;
    const batch = this.deps.batch ?? 5000;
    let deleted = 0;
    for (;;) {
      const rows = await this.deps.db.sequelize.query<{ id: number | string }>(
        'SELECT id FROM live_events WHERE created_at < ? ORDER BY id LIMIT ?', { replacements: [cutoff, batch], type: QueryTypes.SELECT });
      if (rows.length === 0) break;
      await this.deps.db.sequelize.query('DELETE FROM live_events WHERE id IN (?)', { replacements: [rows.map((r) => r.id)] });
      deleted += rows.length;
      if (rows.length < batch) break;
    }
    if (deleted > 0) this.deps.log.info({ deleted, retentionMs: this.deps.retentionMs }, 'live_events pruned');
    return deleted;
  }
}
