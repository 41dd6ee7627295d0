import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../core/logging/logger.js';
import { testAdapterSets, type TestPorts } from '../../core/testing/test-ports.js';
import { waitFor } from '../../core/testing/wait-for.js';
import { LiveEventsPruner } from './live-events-pruner.js';

const DAY = 86_400_000;

for (const set of testAdapterSets()) {
  describe(`live_events retention on ${set.name}`, () => {
    let ports: TestPorts;
    before(async () => { ports = await set.make(); });
    after(async () => { await ports.close(); });

    const insert = async (ageMs: number, n: number, stream: string) => {
      const rows = Array.from({ length: n }, () => ['refused', 'css', stream, Date.now() - ageMs]);
      await ports.db.sequelize.query(`INSERT INTO live_events (status, source, stream_name, created_at) VALUES ${rows.map(() => '(?, ?, ?, ?)').join(', ')}`,
        { replacements: rows.flat() });
    };
    const count = async (stream: string) => {
      const [row] = await ports.db.sequelize.query('SELECT COUNT(*) AS n FROM live_events WHERE stream_name = ?', { replacements: [stream], type: 'SELECT' as never }) as unknown as Array<{ n: number | string }>;
      return Number(row!.n);
    };

    it('deletes rows older than the retention, in batches, and keeps the rest', async () => {
      await insert(10 * DAY, 1203, 'old');
      await insert(6 * DAY, 5, 'recent');
      const pruner = new LiveEventsPruner({ db: ports.db, cache: ports.cache, retentionMs: 7 * DAY, batch: 500, log: silentLogger() });
      assert.equal(await pruner.prune(), 1203);
      assert.equal(await count('old'), 0);
      assert.equal(await count('recent'), 5);
    });

    it('runs by itself once started (and at start), and never with retention 0', async () => {
      await insert(2 * DAY, 3, 'started');
      const off = new LiveEventsPruner({ db: ports.db, cache: ports.cache, retentionMs: 0, log: silentLogger() });
      off.start();
      assert.equal(await off.prune(), 0);
      await off.stop();
      assert.equal(await count('started'), 3);
      const on = new LiveEventsPruner({ db: ports.db, cache: ports.cache, retentionMs: DAY, intervalMs: 60_000, log: silentLogger() });
      on.start();
      try {
        await waitFor('pruned at start', async () => (await count('started')) === 0, 10_000);
      } finally {
        await on.stop();
      }
    });
  });
}
