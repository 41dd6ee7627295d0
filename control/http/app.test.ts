import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testAdapterSets } from '../../core/testing/test-ports.js';
import { makeKit, type Kit } from '../testing/control-kit.js';

for (const set of testAdapterSets()) {
  describe(`control HTTP edges on ${set.name}`, () => {
    let kit: Kit;
    before(async () => {
      kit = await makeKit(set);
    });
    after(async () => {
      await kit.close();
    });

    it('/healthz checks the database and the cache', async () => {
      const res = await kit.http.get('/healthz').expect(200);
      assert.deepEqual(res.body, { status: 'ok', checks: { database: 'ok', cache: 'ok' } });
    });

    it('/metrics counts requests by route pattern, not by raw path', async () => {
      await kit.http.get('/api/v1/rooms/123456').expect(404);
      await kit.http.get('/api/v1/rooms/654321').expect(404);
      await kit.http.get('/api/v1/some/junk/path').expect(404);
      const res = await kit.http.get('/metrics').expect(200);
      assert.match(res.text, /onair_http_requests_total\{method="GET",route="\/api\/v1\/rooms\/:id",status="404"\} 2/);
      assert.match(res.text, /route="unmatched"/);
      assert.ok(!res.text.includes('123456'));
      assert.match(res.text, /onair_http_request_duration_seconds_bucket/);
    });

    it('answers /healthz 503 when the database is gone', async () => {
      const other = await makeKit(set);
      await other.ports.db.close();
      const res = await other.http.get('/healthz').expect(503);
      assert.equal(res.body.checks.database, 'down');
      await other.control.close();
      await other.ports.cache.close();
      await other.ports.close().catch(() => undefined);
    });
  });
}
