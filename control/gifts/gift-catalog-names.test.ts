/**
 * One name per gift in the catalog: POST /admin/gifts refuses a name another gift has (enabled or
 * disabled), compared trimmed and ignoring case, with 409 gift_name_taken; PATCH refuses a rename
 * onto another gift's name (a gift may keep or re-case its own); two creates at once make one gift.
 * Both adapter sets.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testAdapterSets } from '../../core/testing/test-ports.js';
import { makeKit, type Kit } from '../testing/control-kit.js';
import * as nameKeyMigration from '../../core/database/migrations/0521-gift-name-key.js';

for (const set of testAdapterSets()) {
  describe(`gift names are unique in the catalog on ${set.name}`, () => {
    let kit: Kit;
    let op: { auth: { Authorization: string } };
    before(async () => {
      kit = await makeKit(set);
      op = await kit.operator();
    });
    after(async () => {
      await kit?.close();
    });

    const create = (body: object) => kit.http.post('/api/v1/admin/gifts').set(op.auth).send(body);
    const names = async () => ((await kit.http.get('/api/v1/admin/gifts').set(op.auth).expect(200)).body.gifts as Array<{ name: string }>).map((g) => g.name).sort();

    it('refuses a second gift with a taken name (trimmed, any case, disabled gifts too): 409 gift_name_taken', async () => {
      const rose = await create({ name: 'Rose', price: 10 });
      assert.equal(rose.status, 201);
      for (const name of ['Rose', '  rose ', 'ROSE']) {
        const again = await create({ name, price: 20 });
        assert.equal(again.status, 409, `${name}: ${JSON.stringify(again.body)}`);
        assert.equal(again.body.error.code, 'gift_name_taken');
      }
      await create({ name: 'Comet', price: 30, enabled: false }).then((r) => assert.equal(r.status, 201));
      const hidden = await create({ name: 'comet', price: 30 });
      assert.equal(hidden.status, 409);
      assert.equal(hidden.body.error.code, 'gift_name_taken');
      assert.deepEqual(await names(), ['Comet', 'Rose']);
    });

    it('refuses a rename onto another gift\'s name; a gift may keep or re-case its own name', async () => {
      const star = (await create({ name: 'Star', price: 5 }).then((r) => r)).body;
      const moon = (await create({ name: 'Moon', price: 6 }).then((r) => r)).body;
      const clash = await kit.http.patch(`/api/v1/admin/gifts/${moon.id}`).set(op.auth).send({ name: ' STAR ' });
      assert.equal(clash.status, 409);
      assert.equal(clash.body.error.code, 'gift_name_taken');
      assert.equal((await kit.http.patch(`/api/v1/admin/gifts/${star.id}`).set(op.auth).send({ name: 'star', price: 7 }).expect(200)).body.name, 'star');
      assert.equal((await kit.http.patch(`/api/v1/admin/gifts/${moon.id}`).set(op.auth).send({ name: 'Full moon' }).expect(200)).body.name, 'Full moon');
      assert.equal((await create({ name: 'Moon', price: 6 })).status, 201, 'the old name is free again');
      assert.equal((await kit.http.patch(`/api/v1/admin/gifts/${moon.id}`).set(op.auth).send({ enabled: false }).expect(200)).body.enabled, false);
    });

    it('makes one gift when an operator double-clicks Add (requests at once)', async () => {
      const answers = await Promise.all([1, 2, 3, 4].map(() => create({ name: 'Rocket', price: 100 }).then((r) => r)));
      const statuses = answers.map((a) => `${a.status}:${a.body.error?.code ?? a.body.name}`).sort();
      assert.deepEqual(statuses, ['201:Rocket', '409:gift_name_taken', '409:gift_name_taken', '409:gift_name_taken']);
      assert.equal((await names()).filter((n) => n === 'Rocket').length, 1);
    });

    it('migrates a catalog that already has gifts named alike: the oldest keeps the name, the others may only be renamed', async () => {
      const ctx = { queryInterface: kit.ports.db.sequelize.getQueryInterface(), dialect: kit.ports.db.dialect };
      await nameKeyMigration.down(ctx);
      const now = Date.now();
      for (const name of ['Kiss', 'kiss ', 'KISS']) {
        await kit.ports.db.sequelize.query('INSERT INTO gifts (name, price, animation_tier, enabled, sort_order, created_at, updated_at) VALUES (?, 1, 0, ?, 0, ?, ?)', { replacements: [name, true, now, now] });
      }
      await nameKeyMigration.up(ctx);
      const kisses = ((await kit.http.get('/api/v1/admin/gifts').set(op.auth).expect(200)).body.gifts as Array<{ id: string; name: string }>).filter((g) => /kiss/i.test(g.name));
      assert.equal(kisses.length, 3);
      assert.equal((await create({ name: 'kiss', price: 1 })).status, 409);
      const [, second, third] = kisses.sort((a, b) => Number(a.id) - Number(b.id));
      assert.equal((await kit.http.patch(`/api/v1/admin/gifts/${second!.id}`).set(op.auth).send({ name: 'Kiss' })).body.error.code, 'gift_name_taken');
      await kit.http.patch(`/api/v1/admin/gifts/${second!.id}`).set(op.auth).send({ name: 'Kiss 2' }).expect(200);
      await kit.http.patch(`/api/v1/admin/gifts/${third!.id}`).set(op.auth).send({ enabled: false }).expect(200);
    });
  });
}
