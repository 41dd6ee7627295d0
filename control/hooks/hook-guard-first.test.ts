/**
 * Sweep (session 7): the API's JSON parser ran before the hooks' guard, so an anonymous caller had
 * its hook body read and parsed (a 64 KB body, a 400 json_too_deep logged at warn on every call)
 * before learning it had no secret. The hooks now read their bodies after the guard: a caller
 * without the secret gets its 401 whatever it sends; with it, the limits answer as before.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { captureLogger } from '../../core/testing/log-capture.js';
import { testAdapterSets } from '../../core/testing/test-ports.js';
import { makeKit, type Kit } from '../testing/control-kit.js';

const SECRET = 'hook-guard-first-secret-0123';

for (const set of testAdapterSets()) {
  describe(`hook bodies are read only after the guard, on ${set.name}`, () => {
    let kit: Kit;
    const logs = captureLogger('debug');
    before(async () => { kit = await makeKit(set, { hooks: { secret: SECRET, allow: [] } }, { log: logs.log }); });
    after(() => kit.close());

    const big = JSON.stringify({ app: 'live', stream: '1', pad: 'x'.repeat(200_000) });
    const deep = '['.repeat(5000) + ']'.repeat(5000);

    it('without the secret: 401 for an oversized or a too-deep body, and no json_too_deep logged', async () => {
      for (const body of [big, deep]) {
        const res = await kit.http.post('/api/v1/hook/on_publish').set('content-type', 'application/json').send(body);
        assert.equal(res.status, 401, res.text);
        assert.equal(res.body.error.code, 'invalid_hook_secret');
      }
      assert.equal(logs.lines.filter((l) => l.code === 'json_too_deep').length, 0);
    });

    it('with the secret: 413 for an oversized body, 400 for a too-deep or malformed one, and a good SRS body works', async () => {
      const url = `/api/v1/hook/on_play?secret=${SECRET}`;
      assert.equal((await kit.http.post(url).set('content-type', 'application/json').send(big)).status, 413);
      const tooDeep = await kit.http.post(url).set('content-type', 'application/json').send(deep);
      assert.equal(tooDeep.status, 400);
      assert.equal(tooDeep.body.error.code, 'json_too_deep');
      assert.equal((await kit.http.post(url).set('content-type', 'application/json').send('{oops')).status, 400);
      const a = await kit.anchorWithRoom();
      // Parsed as SRS JSON: refused for lack of a play token (403), not an unrecognised body (400).
      assert.equal((await kit.http.post(url).send({ app: 'live', stream: a.roomId, client_id: 'c1' })).status, 403);
    });
  });
}
