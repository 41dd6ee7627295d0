import { mkdirSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Sequelize, type QueryInterface } from 'sequelize';
import { Umzug, SequelizeStorage } from 'umzug';
import type { Logger } from '../logging/logger.js';
import { UnavailableError } from '../errors.js';
import { translateDriverErrors } from './driver-errors.js';

export type DatabaseDialect = 'sqlite' | 'mysql';

/** What a migration file exports: `up` and `down` over sequelize's QueryInterface. */
export interface Migration {
  up(ctx: { queryInterface: QueryInterface; dialect: DatabaseDialect }): Promise<void>;
  down(ctx: { queryInterface: QueryInterface; dialect: DatabaseDialect }): Promise<void>;
}

export interface Database {
  readonly sequelize: Sequelize;
  readonly dialect: DatabaseDialect;
  /** Applies pending migrations (files in core/database/migrations, in name order). */
  migrate(): Promise<string[]>;
  close(): Promise<void>;
}

const migrationsDir = join(dirname(fileURLToPath(import.meta.url)), 'migrations');

/**
 * Opens the database named by `url`: `mysql://user:pass@host:port/db` (MySQL 8 / MariaDB through
 * mysql2), `sqlite::memory:` or `sqlite:/path/file.db`; a SQLite file `onair.db` in dataDir when unset.
 */
export async function openDatabase(options: { url?: string; dataDir: string; log?: Logger }): Promise<Database> {
  const { url, dataDir, log } = options;
  let sequelize: Sequelize;
  let dialect: DatabaseDialect;
  if (url?.startsWith('mysql://') || url?.startsWith('mariadb://')) {
    dialect = 'mysql';
    sequelize = new Sequelize(url.replace(/^mariadb:/, 'mysql:'), {
      dialect: 'mysql',
      logging: false,
      pool: { max: 20, min: 0, idle: 10_000, acquire: 10_000 },
      // BIGINT ids come back as strings, so snowflakes and large ids never lose precision.
      dialectOptions: { supportBigNumbers: true, bigNumberStrings: true, charset: 'utf8mb4' },
      define: { charset: 'utf8mb4', collate: 'utf8mb4_unicode_ci' },
    });
  } else if (url === undefined || url.startsWith('sqlite:')) {
    dialect = 'sqlite';
    let storage = url?.slice('sqlite:'.length) ?? join(resolve(dataDir), 'onair.db');
    if (storage !== ':memory:') mkdirSync(dirname(resolve(storage)), { recursive: true });
    if (storage === '') storage = ':memory:';
    sequelize = new Sequelize({ dialect: 'sqlite', storage, logging: false, pool: { max: 1, min: 1, idle: 60_000 } });
  } else {
    throw new TypeError(`unsupported database url scheme (use mysql:// or sqlite:): ${url.split(':')[0]}`);
  }
  try {
    await sequelize.authenticate();
  } catch (cause) {
    await sequelize.close().catch(() => undefined);
    throw new UnavailableError(`cannot reach the ${dialect} database`, { cause });
  }
  translateDriverErrors(sequelize);
  if (dialect === 'sqlite') {
    // WAL lets readers run while the single writer commits; busy_timeout rides out short locks.
    await sequelize.query('PRAGMA journal_mode = WAL');
    await sequelize.query('PRAGMA busy_timeout = 5000');
    await sequelize.query('PRAGMA foreign_keys = ON');
  }

  const queryInterface = sequelize.getQueryInterface();
  const umzug = new Umzug<{ queryInterface: QueryInterface; dialect: DatabaseDialect }>({
    migrations: readdirSync(migrationsDir)
      // .ts under tsx, .js once compiled to dist/ (scripts/build.mjs); the name has no extension,
      // so a database migrated by either sees the same history.
      .filter((f) => /^\d{4}-.+\.(ts|js)$/.test(f) && !f.endsWith('.test.ts') && !f.endsWith('.d.ts'))
      .sort()
      .map((file) => ({
        name: file.replace(/\.(ts|js)$/, ''),
        up: async (params) => ((await import(pathToFileURL(join(migrationsDir, file)).href)) as Migration).up(params.context),
        down: async (params) => ((await import(pathToFileURL(join(migrationsDir, file)).href)) as Migration).down(params.context),
      })),
    context: { queryInterface, dialect },
    storage: new SequelizeStorage({ sequelize, tableName: 'schema_migrations' }),
    logger: undefined,
  });

  return {
    sequelize,
    dialect,
    async migrate() {
      const applied = await umzug.up();
      if (applied.length) log?.info({ migrations: applied.map((m) => m.name) }, 'database migrated');
      return applied.map((m) => m.name);
    },
    async close() {
      await sequelize.close();
    },
  };
}
