/**
 * Sweep (session 7): on the embedded database (sqlite3, the default deployment) a NUL character in
 * any input that reached a query cut the SQL statement short: `POST /auth/login {"username":"a\u0000"}`
 * (no account needed), `GET /admin/users?q=a%00` and the like answered 500 and logged an error per
 * call. No API input needs a NUL: JSON bodies, paths and queries holding one are a 400
 * `nul_character`; hook bodies a 400 invalid_hook; a callback body a 400 refusal.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cssSign } from '../../core/callbacks/css-signature.js';
import { jsonHasNul } from '../../core/http/json-depth.js';
import { testAdapterSets } from '../../core/testing/test-ports.js';
import { makeKit, type Kit } from '../testing/control-kit.js';

const HOOK_SECRET = 'nul-input-hook-secret';
const KEY = 'nul-input-callback-key';

describe('jsonHasNul', () => {
  const b = (s: string) => Buffer.from(s);
  it('finds the escape in values and keys, not an escaped backslash followed by u0000', () => {
    assert.equal(jsonHasNul(b('{"a":"x\\u0000"}')), true);
    assert.equal(jsonHasNul(b('{"\\u0000":1}')), true);
    assert.equal(jsonHasNul(b('{"a":"\\\\u0000"}')), false);
    assert.equal(jsonHasNul(b('{"a":"\\\\\\u0000"}')), true);
    assert.equal(jsonHasNul(b('{"a":"u0000"}')), false);
    assert.equal(jsonHasNul(b('{"a":"\\u00001"}')), true);
  });
});

for (const set of testAdapterSets()) {
  describe(`NUL characters in API input, on ${set.name}`, () => {
    let kit: Kit;
    let op: Awaited<ReturnType<Kit['operator']>>;
    let base: string;
    before(async () => {
      kit = await makeKit(set, { hooks: { secret: HOOK_SECRET, allow: [] }, callbacks: { key: KEY } });
      op = await kit.operator();
      base = await kit.listen();
    });
    after(() => kit.close());

    it('a login or registration whose JSON holds \\u0000 is a 400, not a 500', async () => {
      const login = await kit.http.post('/api/v1/auth/login').set('content-type', 'application/json').send('{"username":"a\\u0000b","password":"whatever pass"}');
      assert.equal(login.status, 400, login.text);
      assert.equal(login.body.error.code, 'nul_character');
      const reg = await kit.http.post('/api/v1/auth/register').set('content-type', 'application/json').send('{"username":"ab\\u0000","password":"correct horse battery"}');
      assert.equal(reg.status, 400);
    });

    it('a query or a path holding %00 is a 400, not a 500', async () => {
      const search = await kit.http.get('/api/v1/admin/users?q=a%00b').set(op.auth);
      assert.equal(search.status, 400, search.text);
      assert.equal(search.body.error.code, 'nul_character');
      assert.equal((await kit.http.get('/api/v1/admin/rooms?q=%00').set(op.auth)).status, 400);
      assert.equal((await kit.http.get('/api/v1/rooms/1%00').set(op.auth)).status, 400);
      // Still served: the same searches without the NUL, and a literal "\u0000" text (an escaped backslash).
      await kit.http.get('/api/v1/admin/users?q=ab').set(op.auth).expect(200);
      const anchor = await kit.anchorWithRoom('a\\u0000b literally');
      const room = await kit.http.get(`/api/v1/rooms/${anchor.roomId}`).expect(200);
      assert.equal(room.body.title, 'a\\u0000b literally');
    });

    it('hooks and callbacks refuse a NUL with a 400', async () => {
      const form = await fetch(`${base}/api/v1/hook/on_publish?secret=${HOOK_SECRET}`, {
        method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'call=publish&app=live&name=sk_a%00b&addr=1.2.3.4&clientid=1',
      });
      assert.equal(form.status, 400);
      const srs = await fetch(`${base}/api/v1/hook/on_play?secret=${HOOK_SECRET}`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"app":"live","stream":"1","param":"?token=a\\u0000"}',
      });
      assert.equal(srs.status, 400);
      const t = Math.floor(Date.now() / 1000) + 600;
      const cb = await fetch(`${base}/api/v1/callback`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"event_type":321,"stream_id":"1\\u0000","t":${t},"sign":"${cssSign(KEY, t)}"}`,
      });
      assert.equal(cb.status, 400);
      assert.equal(((await cb.json()) as { error: { code: string } }).error.code, 'nul_character');
    });
  });
}
