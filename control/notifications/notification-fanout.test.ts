/**
 * The go-live fan-out worker on its own: chunks, the cursor a crash resumes from (nothing written
 * twice), the lease that keeps a second node off a job in progress, and the hand-back on stop.
 * Both adapter sets (SQLite; MariaDB).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { QueryTypes } from 'sequelize';
import { runInTransaction } from '../../core/event-bus/db-transaction.js';
import { silentLogger } from '../../core/logging/logger.js';
import { testAdapterSets, type TestPorts } from '../../core/testing/test-ports.js';
import { NotificationFanout, enqueueFollowerFanout, type FanoutResult } from './notification-fanout.js';

for (const set of testAdapterSets()) {
  describe(`notification fan-out worker on ${set.name}`, () => {
    let ports: TestPorts;
    before(async () => { ports = await set.make(); });
    after(async () => { await ports?.close(); });

    const q = <T extends object>(sql: string, replacements: unknown[] = []) => ports.db.sequelize.query<T>(sql, { replacements, type: QueryTypes.SELECT });
    const follow = async (anchorId: string, fans: number[]) => {
      await ports.db.sequelize.query(`INSERT INTO follows (user_id, anchor_id, created_at) VALUES ${fans.map(() => '(?, ?, ?)').join(', ')}`, { replacements: fans.flatMap((f) => [f, anchorId, Date.now()]) });
    };
    const written = async (key: string) => (await q<{ user_id: string | number }>('SELECT user_id FROM notifications WHERE dedupe_key = ? ORDER BY user_id', [key])).map((r) => Number(r.user_id));
    const worker = (onDone?: (r: FanoutResult) => void, pushed: string[][] = []) => new NotificationFanout({
      db: ports.db, push: { byDedupeKey: async (_k, ids) => { pushed.push(ids); return ids.length; } }, batch: 3, leaseMs: 60_000, pollMs: 3_600_000, log: silentLogger(), onDone,
    });
    const finished = (w: (onDone: (r: FanoutResult) => void) => NotificationFanout) => new Promise<FanoutResult>((resolve) => { w(resolve).kick(); });

    it('writes every follower in chunks, pushes each chunk, and enqueues a key once', async () => {
      await follow('501', [11, 12, 13, 14, 15, 16, 17]);
      await runInTransaction(ports.db, (tx) => enqueueFollowerFanout(tx, '501', 'live_started', 'live:s1', { room_id: '9' }));
      await runInTransaction(ports.db, (tx) => enqueueFollowerFanout(tx, '501', 'live_started', 'live:s1', { room_id: '9' }));
      assert.equal((await q('SELECT id FROM notification_fanouts WHERE dedupe_key = ?', ['live:s1'])).length, 1);
      const pushed: string[][] = [];
      const result = await finished((done) => worker(done, pushed));
      assert.deepEqual([result.written, result.chunks], [7, 3]);
      assert.deepEqual(pushed, [['11', '12', '13'], ['14', '15', '16'], ['17']]);
      assert.deepEqual(await written('live:s1'), [11, 12, 13, 14, 15, 16, 17]);
      const [row] = await q<{ status: string; cursor_user: string | number }>('SELECT status, cursor_user FROM notification_fanouts WHERE dedupe_key = ?', ['live:s1']);
      assert.deepEqual([row!.status, Number(row!.cursor_user)], ['done', 17]);
    });

    it('resumes a crashed job at its cursor once its lease ran out, writing nothing twice; a live lease keeps it off', async () => {
      await follow('502', [21, 22, 23, 24, 25]);
      await runInTransaction(ports.db, (tx) => enqueueFollowerFanout(tx, '502', 'live_started', 'live:s2', {}));
      // A node wrote 21-23 and died holding the lease: the rows are there, the cursor says 23.
      await ports.db.sequelize.query("INSERT INTO notifications (user_id, kind, payload, dedupe_key, created_at) VALUES (21, 'live_started', '{}', 'live:s2', 1), (22, 'live_started', '{}', 'live:s2', 1), (23, 'live_started', '{}', 'live:s2', 1)");
      await ports.db.sequelize.query('UPDATE notification_fanouts SET cursor_user = 23, written = 3, lease_until = ? WHERE dedupe_key = ?', { replacements: [Date.now() + 60_000, 'live:s2'] });
      const early = worker();
      early.kick();
      await early.idle();
      assert.deepEqual(await written('live:s2'), [21, 22, 23], 'the lease is still held: nobody takes the job');
      await ports.db.sequelize.query('UPDATE notification_fanouts SET lease_until = ? WHERE dedupe_key = ?', { replacements: [Date.now() - 1, 'live:s2'] });
      const pushed: string[][] = [];
      const result = await finished((done) => worker(done, pushed));
      assert.deepEqual(pushed, [['24', '25']], 'only the rest is written and pushed');
      assert.equal(result.written, 2);
      assert.deepEqual(await written('live:s2'), [21, 22, 23, 24, 25]);
    });

    it('hands a job back at its cursor when stopped mid-way', async () => {
      await follow('503', [31, 32, 33, 34, 35, 36, 37]);
      await runInTransaction(ports.db, (tx) => enqueueFollowerFanout(tx, '503', 'live_started', 'live:s3', {}));
      let stopping: Promise<void> | undefined;
      const w = new NotificationFanout({
        db: ports.db, batch: 3, leaseMs: 60_000, pollMs: 3_600_000, log: silentLogger(),
        push: { byDedupeKey: async (_k, ids) => { stopping ??= w.stop(); return ids.length; } },
      });
      w.kick();
      await w.idle();
      await stopping;
      const [row] = await q<{ status: string; cursor_user: string | number; lease_until: string | number }>('SELECT status, cursor_user, lease_until FROM notification_fanouts WHERE dedupe_key = ?', ['live:s3']);
      assert.deepEqual([row!.status, Number(row!.cursor_user), Number(row!.lease_until)], ['pending', 33, 0]);
      await finished((done) => worker(done));
      assert.deepEqual(await written('live:s3'), [31, 32, 33, 34, 35, 36, 37]);
    });
  });
}
