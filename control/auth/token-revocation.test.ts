/**
 * Sweep (session 7): a password change did not end the sessions opened under the old password: the
 * operator whose password leaked was re-set with ONAIR_ADMIN_PASSWORD (or the CLI), and a token
 * stolen with it kept its operator powers for ONAIR_JWT_TTL (7 days). Now a token carries a keyed
 * digest of the password hash it was issued under, and is refused once the password changed.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import jwt from 'jsonwebtoken';
import { testAdapterSets } from '../../core/testing/test-ports.js';
import { makeKit, type Kit } from '../testing/control-kit.js';

for (const set of testAdapterSets()) {
  describe(`tokens and password changes, on ${set.name}`, () => {
    let kit: Kit;
    before(async () => { kit = await makeKit(set); });
    after(() => kit.close());

    const login = async (username: string, password: string) => {
      const res = await kit.http.post('/api/v1/auth/login').send({ username, password }).expect(200);
      return { Authorization: `Bearer ${res.body.token as string}` };
    };

    it('an operator\'s password re-set (ONAIR_ADMIN_PASSWORD / the CLI) ends the tokens issued under the old one', async () => {
      const name = `rev${process.pid}${Date.now().toString(36)}`;
      await kit.control.auth.ensureOperator(name, 'first operator pass');
      const stolen = await login(name, 'first operator pass');
      await kit.http.get('/api/v1/admin/users').set(stolen).expect(200);
      await kit.control.auth.ensureOperator(name, 'second operator pass');
      const refused = await kit.http.get('/api/v1/admin/users').set(stolen).expect(401);
      assert.equal(refused.body.error.code, 'invalid_token');
      await kit.http.get('/api/v1/auth/me').set(stolen).expect(401);
      // The new password's token works; the old password no longer logs in.
      await kit.http.get('/api/v1/admin/users').set(await login(name, 'second operator pass')).expect(200);
      await kit.http.post('/api/v1/auth/login').send({ username: name, password: 'first operator pass' }).expect(401);
      // Running ensureOperator again with the same password (every start) keeps the tokens.
      const current = await login(name, 'second operator pass');
      await kit.control.auth.ensureOperator(name, 'second operator pass');
      await kit.http.get('/api/v1/auth/me').set(current).expect(200);
    });

    it('a viewer who registered the ONAIR_ADMIN_USER name before the first boot does not become its operator', async () => {
      // ensureOperator makes an existing user of that name the operator and sets the configured
      // password: the squatter's own token, taking its role from the users table, became an operator's.
      const name = `squat${process.pid}${Date.now().toString(36)}`;
      await kit.http.post('/api/v1/auth/register').send({ username: name, password: 'squatter pass', role: 'viewer' }).expect(201);
      const squatter = await login(name, 'squatter pass');
      await kit.control.auth.ensureOperator(name, 'the real operator pass');
      await kit.http.get('/api/v1/admin/users').set(squatter).expect(401);
      await kit.http.get('/api/v1/admin/users').set(await login(name, 'the real operator pass')).expect(200);
    });

    it('a token whose password digest was tampered with is refused even when re-signed with the key', async () => {
      const viewer = await kit.user('viewer');
      const token = viewer.auth.Authorization.slice('Bearer '.length);
      const claims = jwt.decode(token, { json: true })!;
      assert.equal(typeof claims.pwd, 'string', 'a login token carries the password digest');
      const secret = kit.ports.config.secret!;
      const forged = jwt.sign({ ...claims, pwd: 'A'.repeat(22) }, secret, { algorithm: 'HS256' });
      await kit.http.get('/api/v1/auth/me').set({ Authorization: `Bearer ${forged}` }).expect(401);
      await kit.http.get('/api/v1/auth/me').set(viewer.auth).expect(200);
    });
  });
}
