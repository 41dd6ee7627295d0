/**
 * Sweep (session 7): a database error logged with `{ err }` carried the failed statement with its
 * values inlined (Sequelize's `sql`, on the error and on its `parent`/`original`): a query that
 * failed while reading a room by its stream key, or writing a user's password hash, put the key or
 * the hash in the log. The logger's error serializer now masks them (and drops bound parameters).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from './logger.js';
import { testAdapterSets } from '../testing/test-ports.js';

const KEY = 'sk_Log-Leak_0123456789abcdefghijklmnopqrstuv';
const HASH = 'scrypt$16384$8$1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaA';
const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl';

for (const set of testAdapterSets()) {
  describe(`database errors in the log, on ${set.name}`, () => {
    it('a failed statement is logged without the stream key, password hash or token it held', async () => {
      const ports = await set.make({});
      try {
        let out = '';
        const log = createLogger({ level: 'info', destination: new Writable({ write(c, _e, cb) { out += c.toString(); cb(); } }) });
        const statements: Array<[string, unknown[]]> = [
          ['SELECT * FROM rooms WHERE stream_key = ? AND no_such_column = 1', [KEY]],
          ['UPDATE users SET password_hash = ? WHERE no_such_column = ?', [HASH, JWT]],
        ];
        for (const [sql, replacements] of statements) {
          const err = await ports.db.sequelize.query(sql, { replacements }).then(() => null, (e: unknown) => e);
          assert.ok(err, 'the statement fails');
          log.error({ err, task_id: 'task_kept' }, 'request failed');
        }
        await new Promise((r) => setImmediate(r));
        for (const secret of [KEY, HASH, JWT, 'Log-Leak', 'c2FsdHNhbHRzYWx0c2FsdA']) assert.ok(!out.includes(secret), `${secret} in the log:\n${out.slice(0, 2000)}`);
        assert.match(out, /FROM rooms WHERE stream_key = /, 'the statement is still there, its values masked');
        assert.match(out, /no_such_column/);
        assert.match(out, /task_kept/);
      } finally {
        await ports.close();
      }
    });
  });
}
