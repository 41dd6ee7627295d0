/**
 * Issue 9, point 7: every refused callback used to become a live_events row (2000 forged 4 KB
 * posts = 7.6 MB). Refusals are now a Prometheus counter plus a bounded, truncated sample.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cssSign } from '../../core/callbacks/css-signature.js';
import { testAdapterSets } from '../../core/testing/test-ports.js';
import { makeKit, type Kit } from '../testing/control-kit.js';

const KEY = 'refusals-test-callback-key';

for (const set of testAdapterSets()) {
  describe(`refused callbacks on ${set.name}`, () => {
    let kit: Kit;
    let base: string;
    before(async () => {
      kit = await makeKit(set, { callbacks: { key: KEY } });
      base = await kit.listen();
    });
    after(async () => { await kit.close(); });

    const count = async (sql: string, params: unknown[] = []) => {
      const [row] = await kit.ports.db.sequelize.query(sql, { replacements: params, type: 'SELECT' as never }) as unknown as Array<{ n: number | string | null }>;
      return Number(row?.n ?? 0);
    };

    it('2000 forged 4 KB posts: all refused and counted, a bounded truncated sample stored, the receiver still serves', async () => {
      const since = Date.now();
      const t = Math.floor(Date.now() / 1000) + 600;
      const forged = JSON.stringify({ event_type: 317, streamId: '1', suggestion: 'Block', label: 'Porn', score: [99], t, sign: cssSign('guessed-key', t), pad: 'x'.repeat(4000) });
      assert.ok(forged.length > 4000);
      let sent = 0;
      const statuses = new Map<number, number>();
      await Promise.all(Array.from({ length: 16 }, async () => {
        while (sent < 2000) {
          sent++;
          const res = await fetch(`${base}/api/v1/callback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: forged });
          await res.arrayBuffer();
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        }
      }));
      assert.deepEqual([...statuses], [[401, 2000]]);
      await kit.control.pipeline.events.flush();
      const rows = await count("SELECT COUNT(*) AS n FROM live_events WHERE status = 'refused' AND created_at >= ?", [since]);
      const bytes = await count("SELECT SUM(LENGTH(body)) AS n FROM live_events WHERE status = 'refused' AND created_at >= ?", [since]);
      assert.ok(rows >= 1 && rows <= 30, `a bounded sample of refusals is stored (${rows} rows)`);
      assert.ok(bytes <= rows * 600, `sample bodies are truncated (${bytes} bytes in ${rows} rows)`);
      const [latest] = await kit.control.pipeline.events.recent({ status: 'refused', limit: 1 });
      assert.match(latest!.reason ?? '', /bad_signature/);
      assert.ok(!(latest!.body ?? '').includes('"sign"'), 'no signature stored');
      const metrics = await (await fetch(`${base}/metrics`)).text();
      assert.match(metrics, /onair_callbacks_refused_total\{source="css",code="invalid_signature"\} 2000\b/);
      // The genuine sender is unaffected.
      const ok = await fetch(`${base}/api/v1/callback`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ event_type: 321, stream_id: 'after-flood', sequence: '1', t, sign: cssSign(KEY, t) }),
      });
      assert.equal(ok.status, 200);
    });
  });
}
