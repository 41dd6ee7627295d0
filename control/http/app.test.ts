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

    it('API answers carry security headers: nothing loads from them, nothing frames them', async () => {
      const res = await kit.http.get('/api/v1/rooms/123456').expect(404);
      assert.match(res.headers['content-security-policy'] ?? '', /default-src 'none'.*frame-ancestors 'none'/);
      assert.equal(res.headers['x-frame-options'], 'DENY');
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.equal(res.headers['referrer-policy'], 'no-referrer');
    });

    it('a malformed path or a corrupt compressed body is the client\'s 400, not a 500 logged as an error', async () => {
      const { captureLogger } = await import('../../core/testing/log-capture.js');
      const captured = captureLogger();
      const own = await makeKit(set, {}, { log: captured.log });
      try {
        const anchor = await own.anchorWithRoom();
        const bad = await own.http.get('/api/v1/rooms/%E0%A4%A').expect(400);
        assert.equal(bad.body.error.code, 'invalid_request');
        for (const encoding of ['gzip', 'deflate']) {
          const res = await own.http.post('/api/v1/rooms').set(anchor.auth).set('Content-Type', 'application/json')
            .set('Content-Encoding', encoding).send('{"title":"not compressed"}').expect(400);
          assert.equal(res.body.error.code, 'invalid_body');
          assert.ok(!res.text.includes('header check'), 'no zlib internals in the answer');
        }
        assert.deepEqual(captured.lines.filter((l) => (l.level as number) >= 50), [], 'nothing logged as an error');
      } finally {
        await own.close();
      }
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

describe('error handler', () => {
  it('maps domain and driver errors to statuses without leaking internals', async () => {
    const express = (await import('express')).default;
    const request = (await import('supertest')).default;
    const { ConnectionError } = await import('sequelize');
    const { errorHandler } = await import('./error-handler.js');
    const { translateDriverError } = await import('../../core/database/driver-errors.js');
    const { NotFoundError, ConflictError, UnavailableError, InvalidStateError } = await import('../../core/errors.js');
    const { silentLogger } = await import('../../core/logging/logger.js');
    const app = express();
    const errors: Record<string, unknown> = {
      notfound: new NotFoundError('no such room'),
      conflict: new ConflictError('taken', { code: 'taken' }),
      unavailable: new UnavailableError('redis down'),
      state: new InvalidStateError('closed'),
      // What the database hands up when its server is away (core/database/driver-errors.ts).
      db: translateDriverError(new ConnectionError(new Error('ECONNREFUSED 10.0.0.1:3306 secret-host'))),
      // A raw driver error no longer means anything to the handler: a bug, 500.
      rawdb: new ConnectionError(new Error('ECONNREFUSED 10.0.0.1:3306 secret-host')),
      bug: new Error('SELECT * FROM users WHERE password_hash = ...'),
    };
    app.get('/:kind', (req, _res, next) => next(errors[req.params.kind]));
    app.use(errorHandler(silentLogger()));
    const expect: Array<[string, number, string]> = [
      ['notfound', 404, 'not_found'], ['conflict', 409, 'taken'], ['unavailable', 503, 'unavailable'],
      ['state', 409, 'invalid_state'], ['db', 503, 'unavailable'], ['rawdb', 500, 'internal'], ['bug', 500, 'internal'],
    ];
    for (const [kind, status, code] of expect) {
      const res = await request(app).get(`/${kind}`).expect(status);
      assert.equal(res.body.error.code, code);
      assert.ok(!res.text.includes('secret-host') && !res.text.includes('SELECT'), 'no internals in the answer');
    }
  });
});
