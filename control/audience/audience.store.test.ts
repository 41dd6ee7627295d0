import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { testAdapterSets, type TestPorts } from '../../core/testing/test-ports.js';
import { AudienceStore } from './audience.store.js';

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
