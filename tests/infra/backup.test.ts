/**
 * The MariaDB backup and restore of docs/runbook.md ("Back up and restore") for real: the very
 * shell snippets scripts/deploy.sh runs inside the database container (MARIADB_DUMP, MARIADB_LOAD:
 * `mariadb-dump --single-transaction --quick --routines` into a file, `mariadb` back from it) run
 * here against the test MariaDB, with the credentials in the environment as the container has them.
 * A migrated onair database with rows (ids past 2^53, utf8mb4 text, NULLs, JSON) is dumped, loaded
 * into a scratch database, and both are compared table by table (rows and CHECKSUM TABLE).
 * MinIO's half (`mc mirror`) is not run here: the MinIO client is not installable on this machine.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QueryTypes, Sequelize } from 'sequelize';
import { mysqlTestDatabase, requireEnv } from '../../core/testing/test-bus.js';
import { missingTool } from '../../core/testing/tools.js';

const root = new URL('../../', import.meta.url).pathname;
const dbUrl = requireEnv('ONAIR_TEST_DATABASE_URL');
const skip = !dbUrl ? 'needs ONAIR_TEST_DATABASE_URL (MariaDB)' : missingTool('mariadb-dump', '--version') || missingTool('mariadb', '--version');

/** deploy.sh's snippet, by name, exactly as the script defines it. */
function snippet(name: 'MARIADB_DUMP' | 'MARIADB_LOAD'): string {
  const line = readFileSync(join(root, 'scripts/deploy.sh'), 'utf8').split('\n').find((l) => l.startsWith(`${name}='`));
  assert.ok(line, `scripts/deploy.sh defines ${name}`);
  return line.slice(name.length + 2, -1);
}

describe('MariaDB backup and restore (scripts/deploy.sh, docs/runbook.md)', { skip }, () => {
  it('the dump loads into an empty database and gives the same tables and rows', async () => {
    const u = new URL(dbUrl!.replace(/^mariadb:/, 'mysql:'));
    const admin = new Sequelize(`mysql://${u.username ? `${u.username}${u.password ? `:${u.password}` : ''}@` : ''}${u.host}/`, { dialect: 'mysql', logging: false });
    const source = mysqlTestDatabase(dbUrl!);
    const db = await source.open();
    const sourceName = (db.sequelize.config as { database: string }).database;
    const targetName = `${sourceName}_restored`;
    // A user of its own with a password, as the container's MARIADB_USER / MARIADB_PASSWORD.
    const user = `onair_bk_${randomBytes(4).toString('hex')}`;
    const password = randomBytes(12).toString('hex');
    const dir = mkdtempSync(join(tmpdir(), 'onair-backup-'));
    try {
      await db.sequelize.query("INSERT INTO users (id, username, password_hash, role, created_at, updated_at) VALUES (9007199254740993, 'anchör 主播 🎥', 'x', 'anchor', NOW(), NOW())");
      await db.sequelize.query("INSERT INTO rooms (id, owner_id, title, stream_key, created_at, updated_at) VALUES (9007199254740995, 9007199254740993, '直播间 \\'quoted\\' \\n line', 'sk_test', NOW(), NOW())");
      await db.sequelize.query("INSERT INTO bus_events (name, msg_key, payload, version, created_at) VALUES ('session.live', NULL, '{\"eventId\":\"e1\",\"emoji\":\"🎉\"}', 1, 1)");
      await admin.query(`CREATE DATABASE ${targetName} CHARACTER SET utf8mb4`);
      await admin.query(`CREATE USER '${user}'@'127.0.0.1' IDENTIFIED BY '${password}'`);
      await admin.query(`GRANT ALL PRIVILEGES ON ${sourceName}.* TO '${user}'@'127.0.0.1'`);
      await admin.query(`GRANT ALL PRIVILEGES ON ${targetName}.* TO '${user}'@'127.0.0.1'`);
      // mariadb-dump --single-transaction also reads the server's GTID position here; the container's user is the database owner.
      await admin.query(`GRANT RELOAD, PROCESS ON *.* TO '${user}'@'127.0.0.1'`);
      // What the container's socket is to the snippet, the test server's TCP address is here: the
      // clients' own option file (~/.my.cnf) says so, the snippets stay as deploy.sh has them.
      writeFileSync(join(dir, '.my.cnf'), `[client]\nhost=${u.hostname}\nport=${u.port || '3306'}\nprotocol=tcp\n`);
      const env = (database: string) => ({
        PATH: process.env.PATH ?? '', HOME: dir, MARIADB_USER: user, MARIADB_PASSWORD: password, MARIADB_DATABASE: database,
      });
      const file = join(dir, 'mariadb.sql');
      const dump = spawnSync('sh', ['-c', `${snippet('MARIADB_DUMP')} > '${file}'`], { env: env(sourceName), encoding: 'utf8', timeout: 60_000 });
      assert.equal(dump.status, 0, dump.stderr);
      assert.ok(statSync(file).size > 1000);
      const text = readFileSync(file, 'utf8');
      assert.match(text, /CREATE TABLE `users`/);
      assert.match(text, /anchör 主播 🎥/, 'utf8mb4 text as written');
      const load = spawnSync('sh', ['-c', `${snippet('MARIADB_LOAD')} < '${file}'`], { env: env(targetName), encoding: 'utf8', timeout: 60_000 });
      assert.equal(load.status, 0, load.stderr);

      const tables = async (schema: string) => (await admin.query<{ t: string }>(
        'SELECT table_name AS t FROM information_schema.tables WHERE table_schema = ? ORDER BY table_name', { replacements: [schema], type: QueryTypes.SELECT },
      )).map((r) => r.t);
      const names = await tables(sourceName);
      assert.ok(names.includes('schema_migrations') && names.includes('bus_events') && names.length > 20, names.join(', '));
      assert.deepEqual(await tables(targetName), names);
      const checksum = async (schema: string, table: string) => {
        const [row] = await admin.query<{ Checksum: string | number | null }>(`CHECKSUM TABLE ${schema}.\`${table}\``, { type: QueryTypes.SELECT });
        const [count] = await admin.query<{ n: number }>(`SELECT COUNT(*) AS n FROM ${schema}.\`${table}\``, { type: QueryTypes.SELECT });
        return `${count!.n} rows, checksum ${row!.Checksum}`;
      };
      for (const t of names) assert.equal(await checksum(targetName, t), await checksum(sourceName, t), `table ${t}`);
      const [restored] = await admin.query<{ username: string; id: string }>(`SELECT CAST(id AS CHAR) AS id, username FROM ${targetName}.users WHERE id = 9007199254740993`, { type: QueryTypes.SELECT });
      assert.deepEqual(restored, { id: '9007199254740993', username: 'anchör 主播 🎥' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await admin.query(`DROP USER IF EXISTS '${user}'@'127.0.0.1'`).catch(() => undefined);
      await admin.query(`DROP DATABASE IF EXISTS ${targetName}`).catch(() => undefined);
      await db.close();
      await source.destroy();
      await admin.close();
    }
  });
});
