/**
 * Sweep (session 7): on the embedded database (SQLite) `Alice` registered next to `alice` (MariaDB's
 * collation already refused it): a second account passing for the first in chat and on room pages.
 * A name now differs from every other by more than its case, on both databases.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testAdapterSets } from '../../core/testing/test-ports.js';
import { makeKit, type Kit } from '../testing/control-kit.js';

for (const set of testAdapterSets()) {
  describe(`usernames are one whatever their case, on ${set.name}`, () => {
    let kit: Kit;
    before(async () => { kit = await makeKit(set); });
    after(() => kit.close());

    it('refuses `CaseOwner` once `caseowner` exists (409 username_taken), and the reverse', async () => {
      const name = `caseowner${process.pid}`;
      await kit.http.post('/api/v1/auth/register').send({ username: name, password: 'correct horse', role: 'anchor' }).expect(201);
      for (const spelling of [name.toUpperCase(), `Case${name.slice(4)}`]) {
        const res = await kit.http.post('/api/v1/auth/register').send({ username: spelling, password: 'correct horse', role: 'viewer' });
        assert.equal(res.status, 409, `${spelling}: ${res.status}`);
        assert.equal(res.body.error.code, 'username_taken');
      }
      const upper = `UPPER${process.pid}`;
      await kit.http.post('/api/v1/auth/register').send({ username: upper, password: 'correct horse' }).expect(201);
      assert.equal((await kit.http.post('/api/v1/auth/register').send({ username: upper.toLowerCase(), password: 'correct horse' })).status, 409);
    });
  });
}
