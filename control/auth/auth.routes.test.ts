import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import jwt from 'jsonwebtoken';
import { testAdapterSets } from '../../core/testing/test-ports.js';
import { makeKit, type Kit } from '../testing/control-kit.js';
import { hashPassword, verifyPassword } from './password.js';

describe('password hashing', () => {
  it('salts, verifies, and refuses wrong or malformed input', async () => {
    const a = await hashPassword('s3cret-pass');
    const b = await hashPassword('s3cret-pass');
    assert.notEqual(a, b, 'salted');
    assert.match(a, /^scrypt\$16384\$8\$1\$/);
    assert.equal(await verifyPassword('s3cret-pass', a), true);
    assert.equal(await verifyPassword('s3cret-pasS', a), false);
    assert.equal(await verifyPassword('s3cret-pass', 'garbage'), false);
    assert.equal(await verifyPassword('s3cret-pass', 'scrypt$99999999$8$1$AA$AA'), false);
  });
});

for (const set of testAdapterSets()) {
  describe(`auth API on ${set.name}`, () => {
    let kit: Kit;
    before(async () => {
      kit = await makeKit(set);
    });
    after(async () => {
      await kit.close();
    });

    it('registers, logs in and answers /auth/me', async () => {
      const reg = await kit.http.post('/api/v1/auth/register').send({ username: 'alice', password: 'blue-kettle-42', role: 'anchor' }).expect(201);
      assert.deepEqual(Object.keys(reg.body).sort(), ['id', 'role', 'username']);
      assert.match(reg.body.id, /^\d+$/);
      const login = await kit.http.post('/api/v1/auth/login').send({ username: 'alice', password: 'blue-kettle-42' }).expect(200);
      assert.equal(login.body.token_type, 'Bearer');
      const me = await kit.http.get('/api/v1/auth/me').set('Authorization', `Bearer ${login.body.token}`).expect(200);
      assert.deepEqual(me.body, { id: reg.body.id, username: 'alice', role: 'anchor' });
    });

    it('refuses a taken username (409) and a wrong password (401)', async () => {
      await kit.http.post('/api/v1/auth/register').send({ username: 'bob', password: 'blue-kettle-42', role: 'viewer' }).expect(201);
      const dup = await kit.http.post('/api/v1/auth/register').send({ username: 'bob', password: 'red-kettle-43', role: 'viewer' }).expect(409);
      assert.equal(dup.body.error.code, 'username_taken');
      const bad = await kit.http.post('/api/v1/auth/login').send({ username: 'bob', password: 'wrong-password' }).expect(401);
      assert.equal(bad.body.error.code, 'bad_credentials');
      const nobody = await kit.http.post('/api/v1/auth/login').send({ username: 'nobody', password: 'wrong-password' }).expect(401);
      assert.equal(nobody.body.error.code, 'bad_credentials');
    });

    it('refuses registering as operator', async () => {
      const res = await kit.http.post('/api/v1/auth/register').send({ username: 'mallory', password: 'blue-kettle-42', role: 'operator' }).expect(403);
      assert.equal(res.body.error.code, 'role_not_allowed');
    });

    it('validates bodies: unknown fields, wrong types, short password -> 400', async () => {
      for (const body of [
        { username: 'carol', password: 'blue-kettle-42', role: 'viewer', admin: true },
        { username: 42, password: 'blue-kettle-42' },
        { username: 'ca rol!', password: 'blue-kettle-42' },
        { username: 'carol', password: 'blue-kettle-42', role: 'king' },
      ]) {
        const res = await kit.http.post('/api/v1/auth/register').send(body).expect(400);
        assert.equal(res.body.error.code, 'invalid_request');
        assert.ok(!JSON.stringify(res.body).includes('blue-kettle-42'), 'the message never echoes values');
      }
      const short = await kit.http.post('/api/v1/auth/register').send({ username: 'carol', password: 'short' }).expect(400);
      assert.equal(short.body.error.code, 'password_too_short');
    });

    it('malformed JSON -> 400 invalid_json, huge body -> 413, wrong content type -> 415, no stack traces', async () => {
      const bad = await kit.http.post('/api/v1/auth/login').set('Content-Type', 'application/json').send('{"username": ').expect(400);
      assert.deepEqual(bad.body, { error: { code: 'invalid_json', message: 'request body is not valid JSON' } });
      const huge = await kit.http.post('/api/v1/auth/login').set('Content-Type', 'application/json')
        .send(JSON.stringify({ username: 'x'.repeat(200_000), password: 'y' })).expect(413);
      assert.equal(huge.body.error.code, 'body_too_large');
      const form = await kit.http.post('/api/v1/auth/login').set('Content-Type', 'text/plain').send('username=a').expect(415);
      assert.equal(form.body.error.code, 'unsupported_media_type');
      for (const res of [bad, huge, form]) assert.ok(!/at .*\.ts:\d+/.test(res.text), 'no stack trace');
    });

    it('forged, expired, alg=none and malformed bearer tokens -> 401', async () => {
      const user = await kit.user('viewer');
      const secret = kit.ports.config.secret!;
      const forged = jwt.sign({ username: user.username, role: 'operator', typ: 'access' }, 'not-the-secret-123456', { subject: user.id, algorithm: 'HS256' });
      const expired = jwt.sign({ username: user.username, role: 'viewer', typ: 'access', exp: Math.floor(Date.now() / 1000) - 10 }, secret, { subject: user.id, algorithm: 'HS256' });
      const none = jwt.sign({ username: user.username, role: 'operator', typ: 'access' }, '', { subject: user.id, algorithm: 'none' });
      const wrongTyp = jwt.sign({ username: user.username, role: 'viewer' }, secret, { subject: user.id, algorithm: 'HS256' });
      for (const [token, code] of [[forged, 'invalid_token'], [expired, 'token_expired'], [none, 'invalid_token'], [wrongTyp, 'invalid_token']] as const) {
        const res = await kit.http.get('/api/v1/auth/me').set('Authorization', `Bearer ${token}`).expect(401);
        assert.equal(res.body.error.code, code);
      }
      await kit.http.get('/api/v1/auth/me').set('Authorization', 'Basic abc').expect(401);
      await kit.http.get('/api/v1/auth/me').expect(401);
      await kit.http.get('/api/v1/auth/me').set(user.auth).expect(200);
    });

    it('role guard: a viewer cannot create rooms or use admin endpoints', async () => {
      const viewer = await kit.user('viewer');
      const res = await kit.http.post('/api/v1/rooms').set(viewer.auth).send({ title: 'x' }).expect(403);
      assert.equal(res.body.error.code, 'wrong_role');
      await kit.http.post('/api/v1/admin/live/close').set(viewer.auth).send({ room_id: '1', reason: 'x' }).expect(403);
      await kit.http.post('/api/v1/rooms').send({ title: 'x' }).expect(401);
    });

    it('ensureOperator is idempotent and makes a working operator login', async () => {
      const first = await kit.control.auth.ensureOperator('root_op', 'operator pass 1');
      const second = await kit.control.auth.ensureOperator('root_op', 'operator pass 1');
      assert.equal(first.created, true);
      assert.equal(second.created, false);
      assert.equal(first.user.id, second.user.id);
      const login = await kit.http.post('/api/v1/auth/login').send({ username: 'root_op', password: 'operator pass 1' }).expect(200);
      assert.equal(login.body.user.role, 'operator');
      // A new password through ensureOperator replaces the old one.
      await kit.control.auth.ensureOperator('root_op', 'operator pass 2');
      await kit.http.post('/api/v1/auth/login').send({ username: 'root_op', password: 'operator pass 1' }).expect(401);
    });

    it('unknown API paths get a JSON 404', async () => {
      const res = await kit.http.get('/api/v1/nope').expect(404);
      assert.equal(res.body.error.code, 'not_found');
    });
  });
}
