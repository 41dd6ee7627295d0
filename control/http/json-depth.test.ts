import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testAdapterSets } from '../../core/testing/test-ports.js';
import { captureLogger } from '../../core/testing/log-capture.js';
import { signMediaCallback } from '../../core/callbacks/media-callback-signature.js';
import { makeKit, type Kit } from '../testing/control-kit.js';

/**
 * Issue 9, point 5: JSON nested 120,000 levels deep answered 500 and logged nothing. Every JSON
 * entry point of control (the express parser: API and SRS-style JSON hooks; the callback receiver
 * on its node:http fast path and on its express router) must answer a logged 400 json_too_deep,
 * and the process must go on serving. The body limit is raised so the depth, not the size, is what
 * is refused (an operator may raise ONAIR_BODY_LIMIT).
 */
const DEPTH = 120_000;
const deepArray = '['.repeat(DEPTH) + ']'.repeat(DEPTH);
const deepObject = '{"a":'.repeat(DEPTH) + '1' + '}'.repeat(DEPTH);
const MEDIA_KEY = 'json-depth-media-key';

for (const set of testAdapterSets()) {
  describe(`JSON nested ${DEPTH} levels deep on ${set.name}`, () => {
    let kit: Kit;
    let base: string;
    let auth: { Authorization: string };
    const captured = captureLogger();

    before(async () => {
      kit = await makeKit(set, { http: { bodyLimit: '2mb' }, callbacks: { key: 'json-depth-css-key', mediaKey: MEDIA_KEY }, hooks: { secret: 'json-depth-hook-secret', allow: [] } }, { log: captured.log });
      base = await kit.listen();
      auth = (await kit.user('anchor')).auth;
    });
    after(() => kit.close());

    const post = async (path: string, body: string, headers: Record<string, string> = {}) => {
      const before = captured.lines.length;
      const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
      const json = await res.json() as { error?: { code?: string } };
      await new Promise((r) => setImmediate(r));
      const warned = captured.lines.slice(before).filter((l) => (l.level as number) >= 40 && JSON.stringify(l).match(/json_too_deep|nested deeper/));
      return { status: res.status, code: json.error?.code, warned: warned.length };
    };

    // The callback receiver reads at most 256 KB: the 600 KB object form would be a 413 there.
    const entries: Array<[string, string, () => Record<string, string>, string[]]> = [
      ['/api/v1/auth/login', 'login', () => ({}), [deepArray, deepObject]],
      ['/api/v1/auth/register', 'register', () => ({}), [deepArray, deepObject]],
      ['/api/v1/rooms', 'an authenticated route', () => auth, [deepArray, deepObject]],
      // With its secret: a hook reads no body before its guard passed (hook-guard-first.test.ts).
      ['/api/v1/hook/on_publish?secret=json-depth-hook-secret', 'an SRS JSON hook', () => ({}), [deepArray, deepObject]],
      ['/api/v1/callback', 'the CSS callback fast path', () => ({}), [deepArray]],
    ];
    for (const [path, what, headers, bodies] of entries) {
      it(`${what} (${path}) answers a logged 400 json_too_deep`, async () => {
        for (const body of bodies) {
          const res = await post(path, body, headers());
          assert.equal(res.status, 400, `${path}: ${res.status} ${res.code}`);
          assert.equal(res.code, 'json_too_deep');
          assert.ok(res.warned > 0, `${path}: a warn line names the refusal`);
        }
      });
    }

    it('the signed media callback fast path (/api/v1/callback/media) answers a logged 400 json_too_deep', async () => {
      const res = await post('/api/v1/callback/media', deepArray, signMediaCallback(MEDIA_KEY, deepArray));
      assert.deepEqual([res.status, res.code], [400, 'json_too_deep']);
      assert.ok(res.warned > 0);
    });

    it('the callback express router answers the same', async () => {
      const res = await kit.http.post('/api/v1/callback').set('content-type', 'application/json').send(deepArray);
      assert.equal(res.status, 400);
      assert.equal(res.body.error.code, 'json_too_deep');
    });

    it('keeps serving afterwards, and ordinary nesting still parses', async () => {
      const res = await fetch(`${base}/api/v1/rooms`, {
        method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify({ title: 'after the attack' }),
      });
      assert.equal(res.status, 201);
    });
  });
}
