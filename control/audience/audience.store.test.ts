import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { QueryTypes } from 'sequelize';
import { testAdapterSets, type TestPorts } from '../../core/testing/test-ports.js';
import { AudienceStore, dateSql } from './audience.store.js';
import { liveAudienceTable } from '../../core/database/models/live-audience.model.js';

const nextTurn = () => new Promise((r) => setImmediate(r));
/** The SQL of a sequelize.query call: a string, or { query, bind } from the query generator. */
const sqlOf = (arg: unknown) => (typeof arg === 'object' && arg !== null ? String((arg as { query?: unknown }).query) : String(arg));

for (const set of testAdapterSets()) {
  describe(`AudienceStore on ${set.name}`, () => {
    let ports: TestPorts;
    let store: AudienceStore;
    before(async () => {
      ports = await set.make();
      store = new AudienceStore(ports.db);
    });
    after(() => ports.close());

    it('opens a row per viewing and closes each with its watch time, many in one turn', async () => {
      const t0 = Date.UTC(2026, 10, 21, 20, 0, 0);
      const session = { sessionId: '117000000000000001', roomId: '7', userId: null };
      // 300 viewers join in one turn (one batch), and leave together 1..300 s later.
      await Promise.all(Array.from({ length: 300 }, (_, i) => store.enter({ ...session, viewerKey: `v${i}`, at: new Date(t0) })));
      assert.equal(await store.countViewers(session.sessionId), 300);
      const watched = await Promise.all(Array.from({ length: 300 }, (_, i) => store.exit(`v${i}`, new Date(t0 + (i + 1) * 1000))));
      assert.deepEqual(watched, Array.from({ length: 300 }, (_, i) => i + 1));
      assert.equal(await store.exit('v0', new Date(t0 + 999_000)), null, 'a closed viewing is not closed again');
      assert.equal(await store.exit('never-joined', new Date(t0)), null);
    });

    it('writes the joins that come while a row insert is in flight in one insert, and closes a viewing whose row waited', async () => {
      // INSERTs into live_audience are held until released: the first batch stays in flight.
      const sequelize = ports.db.sequelize as unknown as { query: (...args: unknown[]) => Promise<unknown> };
      const query = sequelize.query;
      let inserts = 0;
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      sequelize.query = (...args: unknown[]) => {
        if (!/^\s*INSERT\s+INTO\s+[`"]?live_audience/i.test(sqlOf(args[0]))) return query(...args);
        inserts++;
        return gate.then(() => query(...args));
      };
      try {
        const t0 = Date.UTC(2026, 10, 21, 22, 0, 0);
        const session = { sessionId: '117000000000000003', roomId: '9', userId: null };
        const first = store.enter({ ...session, viewerKey: 'g0', at: new Date(t0) });
        await nextTurn();
        await nextTurn();
        // 20 more viewers, one per turn, while that insert is in flight; the last one leaves at once.
        const rest: Promise<void>[] = [];
        for (let i = 1; i <= 20; i++) {
          rest.push(store.enter({ ...session, viewerKey: `g${i}`, at: new Date(t0) }));
          await nextTurn();
        }
        const left = store.exit('g20', new Date(t0 + 7000));
        for (let i = 0; i < 5; i++) await nextTurn();
        assert.equal(inserts, 1, 'one insert in flight; the joins after it wait');
        release();
        await Promise.all([first, ...rest]);
        assert.equal(inserts, 2, 'the 20 joins that waited went in one insert');
        assert.equal(await left, 7, 'the viewing whose row waited is closed, not missed');
        assert.equal(await store.countViewers(session.sessionId), 21);
      } finally {
        release();
        sequelize.query = query;
      }
    });

    it('closes the viewings of viewers leaving together with one UPDATE, each with its own exit time to the millisecond', async () => {
      const t0 = Date.UTC(2026, 10, 21, 23, 0, 0);
      const session = { sessionId: '117000000000000004', roomId: '10', userId: null };
      await Promise.all(Array.from({ length: 50 }, (_, i) => store.enter({ ...session, viewerKey: `u${i}`, at: new Date(t0) })));
      const sequelize = ports.db.sequelize as unknown as { query: (...args: unknown[]) => Promise<unknown> };
      const query = sequelize.query;
      let updates = 0;
      sequelize.query = (...args: unknown[]) => {
        if (/^\s*UPDATE\s+[`"]?live_audience/i.test(sqlOf(args[0]))) updates++;
        return query(...args);
      };
      try {
        const watched = await Promise.all(Array.from({ length: 50 }, (_, i) => store.exit(`u${i}`, new Date(t0 + (i + 1) * 1000 + 123))));
        assert.deepEqual(watched, Array.from({ length: 50 }, (_, i) => i + 1));
        assert.equal(updates, 1, 'one UPDATE for the batch');
      } finally {
        sequelize.query = query;
      }
      const rows = await ports.db.sequelize.query<{ viewer_key: string; exit_at: string | Date; watch_s: number }>(
        `SELECT viewer_key, exit_at, watch_s FROM live_audience WHERE session_id = '${session.sessionId}'`, { type: QueryTypes.SELECT });
      assert.equal(rows.length, 50);
      for (const r of rows) {
        const i = Number(r.viewer_key.slice(1));
        assert.equal(new Date(r.exit_at).getTime(), t0 + (i + 1) * 1000 + 123, `exit_at of ${r.viewer_key}`);
        assert.equal(Number(r.watch_s), i + 1);
      }
      assert.equal(await store.exit('u0', new Date(t0 + 999_000)), null, 'closed once');
    });

    it('writes the batch with one raw INSERT, no model instance, rows identical to what the model writes (all columns, ms-exact times)', async () => {
      const table = liveAudienceTable(ports.db.sequelize);
      const t0 = Date.UTC(2026, 10, 22, 1, 2, 3, 4);
      // Ids as strings (mysql2 and the domain) and as numbers, NULL and set user ids, a key past 64
      // characters, an injection attempt, quotes, backslashes, newlines and non-ASCII, times with 0, 1 and 999 ms.
      const viewers = [
        { roomId: '11', userId: null, viewerKey: 'plain', at: new Date(t0) },
        { roomId: 12, userId: '9007199254740993', viewerKey: "it's a \\ \"key\"\n\u00e9\u{1F600}", at: new Date(t0 + 995) },
        { roomId: '9007199254740995', userId: 42, viewerKey: 'k'.repeat(80), at: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, 1)) },
        { roomId: '13', userId: '7', viewerKey: "'); DROP TABLE live_audience; --", at: new Date(Date.UTC(1999, 11, 31, 23, 59, 59, 999)) },
      ];
      const model = '117000000000000010';
      const raw = '117000000000000011';
      await table.bulkCreate(viewers.map((v) => ({
        session_id: model, room_id: v.roomId, user_id: v.userId, viewer_key: v.viewerKey.slice(0, 64), enter_at: v.at,
      })));
      const build = table.build;
      let built = 0;
      (table as { build: unknown }).build = (...args: unknown[]) => {
        built++;
        return (build as (...a: unknown[]) => unknown).apply(table, args);
      };
      const sequelize = ports.db.sequelize as unknown as { query: (...args: unknown[]) => Promise<unknown> };
      const query = sequelize.query;
      let inserts = 0;
      sequelize.query = (...args: unknown[]) => {
        if (/^\s*INSERT\s+INTO\s+[`"]?live_audience/i.test(sqlOf(args[0]))) inserts++;
        return query(...args);
      };
      try {
        await Promise.all(viewers.map((v) => store.enter({ sessionId: raw, ...v } as Parameters<AudienceStore['enter']>[0])));
      } finally {
        sequelize.query = query;
        (table as { build: unknown }).build = build;
      }
      assert.equal(inserts, 1, 'one INSERT for the batch');
      assert.equal(built, 0, 'no model instance built');
      // Every column as the database stores it: SQLite's storage class and text, MariaDB's values as text.
      const cols = ['room_id', 'user_id', 'viewer_key', 'enter_at', 'exit_at', 'watch_s'];
      const select = ports.db.dialect === 'sqlite'
        ? cols.map((c) => `typeof(${c}) AS ${c}_type, CAST(${c} AS TEXT) AS ${c}`).join(', ')
        : cols.map((c) => `CAST(${c} AS CHAR) AS ${c}`).join(', ');
      const rowsOf = (session: string) => ports.db.sequelize.query<Record<string, unknown>>(
        `SELECT ${select} FROM live_audience WHERE session_id = ? ORDER BY id`, { replacements: [session], type: QueryTypes.SELECT });
      const byModel = await rowsOf(model);
      const byRaw = await rowsOf(raw);
      assert.equal(byRaw.length, viewers.length);
      assert.deepEqual(byRaw, byModel);
      if (process.env.SHOW_ROWS) console.log(byRaw);
      const times = await ports.db.sequelize.query<{ enter_at: string | Date }>(
        'SELECT enter_at FROM live_audience WHERE session_id = ? ORDER BY id', { replacements: [raw], type: QueryTypes.SELECT });
      assert.deepEqual(times.map((r) => new Date(r.enter_at).getTime()), viewers.map((v) => v.at.getTime()), 'enter_at to the millisecond');
      assert.equal(byRaw[2]!.viewer_key, 'k'.repeat(64));
    });

    it('writes DATE(3) values as the column type\'s stringify does (escaped), for any date', () => {
      const table = liveAudienceTable(ports.db.sequelize);
      const timezone = (ports.db.sequelize as unknown as { options: { timezone?: string } }).options.timezone;
      const dates = [0, 1, 999, -1, Date.UTC(1999, 11, 31, 23, 59, 59, 999), Date.UTC(2026, 10, 22, 1, 2, 3, 4), Date.UTC(9999, 11, 31, 23, 59, 59, 999),
        Date.UTC(10000, 0, 1), Date.UTC(-1, 0, 1), Date.UTC(0, 0, 1), Date.UTC(500, 5, 5, 5, 5, 5, 5), Number.NaN];
      let seed = 7;
      for (let i = 0; i < 500; i++) dates.push(Date.UTC(1970, 0, 1) + ((seed = (seed * 48271) % 2147483647) / 2147483647) * 5e12);
      for (const column of ['enter_at', 'exit_at'] as const) {
        const type = table.getAttributes()[column].type as unknown as { stringify(v: Date, o: { timezone?: string }): string };
        const write = dateSql(table, column);
        for (const t of dates) {
          const at = new Date(Math.trunc(t));
          assert.equal(write(at), ports.db.sequelize.escape(type.stringify(at, { timezone })), `${column} ${t}`);
        }
        // The point of it: an ordinary date is written without the type's (moment-based) stringify.
        const stringify = type.stringify;
        let calls = 0;
        type.stringify = (...args) => (calls++, stringify.apply(type, args));
        try {
          write(new Date(Date.UTC(2026, 10, 22, 1, 2, 3, 4)));
        } finally {
          type.stringify = stringify;
        }
        assert.equal(calls, 0, `${column}: no stringify for a date in 0-9999 with the +00:00 timezone`);
      }
    });

    it('closes only the newest open viewing of a viewer who came back', async () => {
      const t0 = Date.UTC(2026, 10, 21, 21, 0, 0);
      const session = { sessionId: '117000000000000002', roomId: '8', userId: null };
      await store.enter({ ...session, viewerKey: 'again', at: new Date(t0) });
      assert.equal(await store.exit('again', new Date(t0 + 10_000)), 10);
      await store.enter({ ...session, viewerKey: 'again', at: new Date(t0 + 20_000) });
      assert.equal(await store.exit('again', new Date(t0 + 25_000)), 5);
    });
  });
}
