/**
 * Sweep (session 7): the per-username login lock was keyed by the name as typed (trimmed, lower-case),
 * but MariaDB's collation (utf8mb4_unicode_ci) also finds `opérator`, `ＯＰＥＲＡＴＯＲ` or `operator `
 * for `operator`: each spelling had a lock of its own, so a guesser spread over addresses went on
 * guessing a locked account's password under another spelling, and logged in with it. The lock is
 * now the account's, whatever spelling found it.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testAdapterSets } from '../../core/testing/test-ports.js';
import { makeKit, type Kit } from '../testing/control-kit.js';

for (const set of testAdapterSets()) {
  describe(`the login lock holds for every spelling that finds the account, on ${set.name}`, () => {
    let kit: Kit;
    before(async () => {
      kit = await makeKit(set, { rateLimit: { enabled: true, login: 'off', loginFreeFailures: 3, loginLock: '60s', loginLockMax: '60s' } } as never);
    });
    after(() => kit.close());

    it('a locked account gives no token under another spelling of its name', async () => {
      const name = 'lockvictim';
      await kit.http.post('/api/v1/auth/register').send({ username: name, password: 'correct horse', role: 'viewer' }).expect(201);
      for (let i = 0; i < 3; i++) await kit.http.post('/api/v1/auth/login').send({ username: name, password: `wrong guess ${i}` }).expect(401);
      const locked = await kit.http.post('/api/v1/auth/login').send({ username: name, password: 'correct horse' });
      assert.equal(locked.status, 429);
      for (const spelling of ['lockvictím', 'ｌｏｃｋｖｉｃｔｉｍ', 'LOCKVICTIM', 'lockvictim ', 'lockvíctim  ']) {
        const res = await kit.http.post('/api/v1/auth/login').send({ username: spelling, password: 'correct horse' });
        assert.notEqual(res.status, 200, `${JSON.stringify(spelling)} logged in while the account is locked`);
        assert.equal(res.body.token, undefined);
      }
    });

    it('names no account can have (a lone surrogate, emoji) are a 401, never a 500', async () => {
      for (const username of ['\ud800x', '\u{1F600}\u{1F600}\u{1F600}']) {
        const res = await kit.http.post('/api/v1/auth/login').set('content-type', 'application/json').send(JSON.stringify({ username, password: 'whatever pass' }));
        assert.equal(res.status, 401, `${JSON.stringify(username)}: ${res.status} ${res.text}`);
      }
    });
  });
}
