import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testAdapterSets } from '../../core/testing/test-ports.js';
import { ValidationError } from '../../core/errors.js';
import { makeKit, type Kit } from '../testing/control-kit.js';
import { assertAcceptablePassword, commonPasswords } from './password-policy.js';

/**
 * Issue 9, point 12: passwords of eight spaces, `password` and `12345678` were accepted. Register
 * refuses them (400) with a code that says what is wrong; a reasonable password still registers
 * and logs in.
 */
for (const set of testAdapterSets()) {
  describe(`password rules at registration on ${set.name}`, () => {
    let kit: Kit;
    before(async () => {
      kit = await makeKit(set);
    });
    after(() => kit.close());

    const refused: Array<[string, string, string]> = [
      ['eight spaces', ' '.repeat(8), 'password_blank'],
      ['tabs and newlines only', '\t\t\n\n\t\t\n\n', 'password_blank'],
      ['"password"', 'password', 'password_too_common'],
      ['"12345678"', '12345678', 'password_too_common'],
      ['a common one in other case', 'PassWord1', 'password_too_common'],
      ['"qwertyuiop"', 'qwertyuiop', 'password_too_common'],
      ['seven characters padded with spaces', '   abc1234   '.replace('4', ''), 'password_too_short'],
      ['one character repeated', 'zzzzzzzzzzzz', 'password_too_simple'],
      ['the username itself', 'dana_lopez', 'password_is_username'],
    ];
    for (const [what, password, code] of refused) {
      it(`refuses ${what} with ${code}`, async () => {
        const res = await kit.http.post('/api/v1/auth/register').send({ username: 'dana_lopez', password, role: 'viewer' });
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.equal(res.body.error.code, code);
        // (the word "password" is in every message, so that one case cannot be checked this way)
        if (password !== 'password') assert.ok(!JSON.stringify(res.body).includes(password.trim() || '\u0000'), 'the answer never echoes the password');
      });
    }

    it('accepts a reasonable password, and the account logs in', async () => {
      await kit.http.post('/api/v1/auth/register').send({ username: 'dana_lopez', password: 'lamp post at dawn', role: 'viewer' }).expect(201);
      await kit.http.post('/api/v1/auth/login').send({ username: 'dana_lopez', password: 'lamp post at dawn' }).expect(200);
    });

    it('applies to the operator created from ONAIR_ADMIN_PASSWORD or the CLI too', async () => {
      await assert.rejects(kit.control.auth.ensureOperator('root_weak', '12345678'), (e: unknown) => e instanceof ValidationError && e.code === 'password_too_common');
    });
  });
}

describe('assertAcceptablePassword', () => {
  it('honours a raised minimum (ONAIR_PASSWORD_MIN_LENGTH)', async () => {
    await assert.rejects(assertAcceptablePassword('lamp post', 'x_user', { minLength: 12 }), (e: unknown) => e instanceof ValidationError && e.code === 'password_too_short');
    await assertAcceptablePassword('lamp post at dawn', 'x_user', { minLength: 12 });
  });

  it('counts characters, not UTF-16 units', async () => {
    await assertAcceptablePassword('🎈🎈🎉🎉🎊🎊🎁🎁', 'x_user', { minLength: 8 });
    await assert.rejects(assertAcceptablePassword('🎈🎉🎊🎁', 'x_user', { minLength: 8 }), (e: unknown) => e instanceof ValidationError && e.code === 'password_too_short');
  });

  it('bundles a list of thousands of common passwords, read from the installed package', async () => {
    const list = await commonPasswords();
    assert.ok(list.size >= 5_000, `${list.size} common passwords`);
    for (const p of ['password', '12345678', 'iloveyou', 'sunshine']) assert.ok(list.has(p), p);
  });
});
