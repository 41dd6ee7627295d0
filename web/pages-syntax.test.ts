import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { WEB_ASSETS } from './serve.js';

/** A syntax error in a page's script leaves that page blank with nothing on the server's side: catch it here, fast. */
describe('page scripts', () => {
  for (const name of WEB_ASSETS.filter((n) => n.endsWith('.js'))) {
    it(`${name} parses as an ES module`, () => {
      const res = spawnSync(process.execPath, ['--check', fileURLToPath(new URL(name, import.meta.url))], { encoding: 'utf8' });
      assert.equal(res.status, 0, res.stderr);
    });
  }
});
