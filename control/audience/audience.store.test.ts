import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { testAdapterSets, type TestPorts } from '../../core/testing/test-ports.js';
import { AudienceStore } from './audience.store.js';

const nextTurn = () => new Promise((r) => setImmediate(r));

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
        if (!/^\s*INSERT\s+INTO\s+[`"]?live_audience/i.test(String(args[0]))) return query(...args);
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
