import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../core/database/database.js';
import { AuthService } from './auth/auth.service.js';
import { UserStore } from './auth/user.store.js';
import { loadConfig } from '../core/config/load.js';

const cli = (args: string[], env: Record<string, string>, input = '') =>
  spawnSync(process.execPath, ['--import', 'tsx', 'control/cli.ts', ...args], {
    env: { PATH: process.env.PATH ?? '', ...env }, input, encoding: 'utf8', timeout: 30_000,
  });

describe('admin CLI', () => {
  it('create-operator takes the password from stdin or ONAIR_ADMIN_PASSWORD, idempotently', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'onair-cli-'));
    try {
      const first = cli(['create-operator', 'chief'], { ONAIR_DATA_DIR: dataDir }, 'first-password\n');
      assert.equal(first.status, 0, first.stderr);
      assert.match(first.stdout, /created operator chief/);
      const second = cli(['create-operator', 'chief'], { ONAIR_DATA_DIR: dataDir, ONAIR_ADMIN_PASSWORD: 'second-password' });
      assert.equal(second.status, 0, second.stderr);
      assert.match(second.stdout, /updated operator chief/);
      assert.ok(!first.stdout.includes('first-password') && !second.stdout.includes('second-password'));
      assert.equal(cli(['create-operator', 'chief'], { ONAIR_DATA_DIR: dataDir }, 'short\n').status, 2);
      assert.equal(cli(['nonsense'], { ONAIR_DATA_DIR: dataDir }).status, 2);

      const config = loadConfig({ ONAIR_DATA_DIR: dataDir });
      const db = await openDatabase({ dataDir });
      const auth = new AuthService(new UserStore(db), config);
      const login = await auth.login('chief', 'second-password');
      assert.equal(login.user.role, 'operator');
      await db.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
