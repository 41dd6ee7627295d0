import type { Database } from '../../core/database/database.js';
import { runInTransaction, type Tx } from '../../core/event-bus/db-transaction.js';
import { TurnBatcher } from '../../core/event-bus/turn-batcher.js';

import type { CommitHook, RowsJob } from '../../core/events/event-route.js';

export type { CommitHook, RowsJob, TableRow } from '../../core/events/event-route.js';

interface Pending { job: RowsJob; resolve(): void; reject(err: unknown): void }

/**
 * Group commit for declared rows: the jobs of one event-loop turn become one transaction with one
 * multi-row INSERT per table and one statement per hook, instead of several statements per job.
 * If that fails (a duplicate marker, a bad value), each job of the group is retried in a
 * transaction of its own, so only the guilty one fails. Several groups may be in flight at once.
 */
export class RowsCommitter {
  private readonly batcher: TurnBatcher<Pending>;

  constructor(private readonly db: Database, private readonly hooks: Record<string, CommitHook>, maxBatch = 256) {
    this.batcher = new TurnBatcher(maxBatch, (group) => this.commitGroup(group));
  }

  commit(job: RowsJob): Promise<void> {
    return new Promise<void>((resolve, reject) => this.batcher.push({ job, resolve, reject }));
  }

  private async commitGroup(group: Pending[]): Promise<void> {
    try {
      await runInTransaction(this.db, (tx) => this.write(tx, group.map((p) => p.job)));
      for (const p of group) p.resolve();
    } catch (groupError) {
      if (group.length === 1) return group[0]!.reject(groupError);
      for (const p of group) {
        try {
          await runInTransaction(this.db, (tx) => this.write(tx, [p.job]));
          p.resolve();
        } catch (err) {
          p.reject(err);
        }
      }
    }
  }

  private async write(tx: Tx, jobs: RowsJob[]): Promise<void> {
    const byShape = new Map<string, { table: string; columns: string[]; values: unknown[][] }>();
    for (const row of jobs.flatMap((j) => j.rows)) {
      const columns = Object.keys(row.values);
      const shape = `${row.table}(${columns.join(',')})`;
      let entry = byShape.get(shape);
      if (!entry) byShape.set(shape, entry = { table: row.table, columns, values: [] });
      entry.values.push(columns.map((c) => row.values[c]));
    }
    for (const { table, columns, values } of byShape.values()) {
      const tuple = `(${columns.map(() => '?').join(', ')})`;
      await tx.run(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${values.map(() => tuple).join(', ')}`, values.flat());
    }
    const hooked = new Map<string, string[]>();
    for (const h of jobs.flatMap((j) => j.hooks ?? [])) hooked.set(h.name, [...(hooked.get(h.name) ?? []), h.identity]);
    for (const [name, identities] of hooked) {
      const hook = this.hooks[name];
      if (!hook) throw new TypeError(`unknown commit hook ${name}`);
      await hook(tx, identities);
    }
  }
}

/** Batches "is this event id processed?" lookups of one turn into one SELECT ... IN (event_processed). */
export class ProcessedChecker {
  private waiting = new Map<string, Array<(done: boolean) => void>>();
  private failures = new Map<string, Array<(err: unknown) => void>>();
  private scheduled = false;

  constructor(private readonly db: Database) {}

  isProcessed(identity: string): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.waiting.set(identity, [...(this.waiting.get(identity) ?? []), resolve]);
      this.failures.set(identity, [...(this.failures.get(identity) ?? []), reject]);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    const waiting = this.waiting;
    const failures = this.failures;
    this.waiting = new Map();
    this.failures = new Map();
    const ids = [...waiting.keys()];
    try {
      const found = new Set<string>();
      for (let i = 0; i < ids.length; i += 500) {
        const rows = await this.db.sequelize.query<{ event_id: string }>('SELECT event_id FROM event_processed WHERE event_id IN (?)',
          { replacements: [ids.slice(i, i + 500)], type: 'SELECT' as never });
        for (const r of rows as Array<{ event_id: string }>) found.add(r.event_id);
      }
      for (const [id, resolvers] of waiting) for (const r of resolvers) r(found.has(id));
    } catch (err) {
      for (const rejecters of failures.values()) for (const r of rejecters) r(err);
    }
  }
}
