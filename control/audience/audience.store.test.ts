import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { QueryTypes } from 'sequelize';
import { testAdapterSets, type TestPorts } from '../../core/testing/test-ports.js';
import { AudienceStore } from './audience.store.js';

const nextTurn = () => new Promise((r) => setImmediate(r));
/** The SQL of a sequelize.query call: a string, or { query, bind } from the query generator. */
const sqlOf = (arg: unknown) => (typeof arg === 'object' && arg !== null ? String((arg as { query?: unknown }).query) : String(arg));

for (const set of testAdapterSets()) {
  describe(`AudienceStore on ${set.name}`, () => {
    let ports: TestPorts;
    let store: AudienceStore;
    before(async () => {
      ports = await set.make();
      store = new AudienceStore(ports.db);
    });
    after(() => ports.close());

    it('opens a row per viewing and closes each with its watch time, many in one turn', async () => {
      const t0 = Date.UTC(2026, 10, 21, 20, 0, 0);
      const session = { sessionId: '117000000000000001', roomId: '7', userId: null };
      // 300 viewers join in one turn (one batch), and leave together 1..300 s later.
      await Promise.all(Array.from({ length: 300 }, (_, i) => store.enter({ ...session, viewerKey: `v${i}`, at: new Date(t0) })));
      assert.equal(await store.countViewers(session.sessionId), 300);
      const watched = await Promise.all(Array.from({ length: 300 }, (_, i) => store.exit(`v${i}`, new Date(t0 + (i + 1) * 1000))));
      assert.deepEqual(watched, Array.from({ length: 300 }, (_, i) => i + 1));
      assert.equal(await store.exit('v0', new Date(t0 + 999_000)), null, 'a closed viewing is not closed again');
      assert.equal(await store.exit('never-joined', new Date(t0)), null);
    });

    it('writes the joins that come while a row insert is in flight in one insert, and closes a viewing whose row waited', async () => {
      // INSERTs into live_audience are held until released: the first batch stays in flight.
      const sequelize = ports.db.sequelize as unknown as { query: (...args: unknown[]) => Promise<unknown> };
      const query = sequelize.query;
      let inserts = 0;
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      sequelize.query = (...args: unknown[]) => {
        if (!/^\s*INSERT\s+INTO\s+[`"]?live_audience/i.test(sqlOf(args[0]))) return query(...args);
        inserts++;
        return gate.then(() => query(...args));
      };
      try {
        const t0 = Date.UTC(2026, 10, 21, 22, 0, 0);
        const session = { sessionId: '117000000000000003', roomId: '9', userId: null };
        const first = store.enter({ ...session, viewerKey: 'g0', at: new Date(t0) });
        await nextTurn();
        await nextTurn();
        // 20 more viewers, one per turn, while that insert is in flight; the last one leaves at once.
        const rest: Promise<void>[] = [];
        for (let i = 1; i <= 20; i++) {
          rest.push(store.enter({ ...session, viewerKey: `g${i}`, at: new Date(t0) }));
          await nextTurn();
        }
        const left = store.exit('g20', new Date(t0 + 7000));
        for (let i = 0; i < 5; i++) await nextTurn();
        assert.equal(inserts, 1, 'one insert in flight; the joins after it wait');
        release();
        await Promise.all([first, ...rest]);
        assert.equal(inserts, 2, 'the 20 joins that waited went in one insert');
        assert.equal(await left, 7, 'the viewing whose row waited is closed, not missed');
        assert.equal(await store.countViewers(session.sessionId), 21);
      } finally {
        release();
        sequelize.query = query;
      }
    });

    it('closes the viewings of viewers leaving together with one UPDATE, each with its own exit time to the millisecond', async () => {
      const t0 = Date.UTC(2026, 10, 21, 23, 0, 0);
      const session = { sessionId: '117000000000000004', roomId: '10', userId: null };
      await Promise.all(Array.from({ length: 50 }, (_, i) => store.enter({ ...session, viewerKey: `u${i}`, at: new Date(t0) })));
      const sequelize = ports.db.sequelize as unknown as { query: (...args: unknown[]) => Promise<unknown> };
      const query = sequelize.query;
      let updates = 0;
      sequelize.query = (...args: unknown[]) => {
        if (/^\s*UPDATE\s+[`"]?live_audience/i.test(sqlOf(args[0]))) updates++;
        return query(...args);
      };
      try {
        const watched = await Promise.all(Array.from({ length: 50 }, (_, i) => store.exit(`u${i}`, new Date(t0 + (i + 1) * 1000 + 123))));
        assert.deepEqual(watched, Array.from({ length: 50 }, (_, i) => i + 1));
        assert.equal(updates, 1, 'one UPDATE for the batch');
      } finally {
        sequelize.query = query;
      }
      const rows = await ports.db.sequelize.query<{ viewer_key: string; exit_at: string | Date; watch_s: number }>(
        `SELECT viewer_key, exit_at, watch_s FROM live_audience WHERE session_id = '${session.sessionId}'`, { type: QueryTypes.SELECT });
      assert.equal(rows.length, 50);
      for (const r of rows) {
        const i = Number(r.viewer_key.slice(1));
        assert.equal(new Date(r.exit_at).getTime(), t0 + (i + 1) * 1000 + 123, `exit_at of ${r.viewer_key}`);
        assert.equal(Number(r.watch_s), i + 1);
      }
      assert.equal(await store.exit('u0', new Date(t0 + 999_000)), null, 'closed once');
    });

    it('closes only the newest open viewing of a viewer who came back', async () => {
      const t0 = Date.UTC(2026, 10, 21, 21, 0, 0);
      const session = { sessionId: '117000000000000002', roomId: '8', userId: null };
      await store.enter({ ...session, viewerKey: 'again', at: new Date(t0) });
      assert.equal(await store.exit('again', new Date(t0 + 10_000)), 10);
      await store.enter({ ...session, viewerKey: 'again', at: new Date(t0 + 20_000) });
      assert.equal(await store.exit('again', new Date(t0 + 25_000)), 5);
    });
  });
}
