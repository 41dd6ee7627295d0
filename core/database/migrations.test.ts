import { describe, it, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { testAdapterSets, type TestPorts } from '../testing/test-ports.js';

for (const set of testAdapterSets()) {
  describe(`migrations on ${set.name}`, () => {
    let ports: TestPorts;
    before(async () => {
      ports = await set.make();
    });
    after(async () => {
      await ports.close();
    });

    it('creates the control tables, and running again applies nothing', async () => {
      const tables = (await ports.db.sequelize.getQueryInterface().showAllTables()).map(String);
      for (const t of ['users', 'rooms', 'live_streams', 'publish_bans', 'live_statistics', 'live_audience']) {
        assert.ok(tables.includes(t), `${t} in ${tables.join(',')}`);
      }
      assert.deepEqual(await ports.db.migrate(), []);
    });

    it('keeps a 64-bit snowflake session id exact', async () => {
      const id = '9223372036854775807';
      const qi = ports.db.sequelize.getQueryInterface();
      const now = new Date();
      await qi.bulkInsert('live_streams', [{ id, room_id: 1, anchor_id: 1, status: 'preparing', peak_viewers: 0, created_at: now, updated_at: now }]);
      const [rows] = await ports.db.sequelize.query('SELECT id FROM live_streams');
      assert.equal(String((rows as Array<{ id: unknown }>)[0]!.id), id);
    });
  });
}
