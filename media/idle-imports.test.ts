/**
 * What the media service loads at start: werift (WebRTC, ~20 MB of idle RSS) and ws are loaded by
 * the first WHEP/WHIP offer and the first WS-FLV upgrade, never by importing media/main.ts
 * (docs/benchmarks.md, "Media service idle RSS"). A static import anywhere in the module graph of
 * media/main.ts undoes that; `npm run bench:media-rss` shows the RSS, this test names the culprit.
 * Both packages' CommonJS files show in a fresh process's require.cache once loaded (werift itself
 * is ESM; its dependencies @peculiar/*, werift/node_modules/debug are CommonJS).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const LAZY = /\/node_modules\/(ws|werift|@peculiar)\//;

function cjsLoadedByImporting(module: string): string[] {
  const script = `await import(${JSON.stringify(module)});
const { createRequire } = await import('node:module');
process.stdout.write(JSON.stringify(Object.keys(createRequire(import.meta.url).cache)));`;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  return JSON.parse(out) as string[];
}

describe('media service imports at start', () => {
  it('importing media/main.ts loads neither werift nor ws', () => {
    const loaded = cjsLoadedByImporting('./media/main.ts');
    assert.ok(loaded.some((p) => p.includes('/node_modules/prom-client/')), 'the probe sees CommonJS packages (prom-client)');
    assert.deepEqual(loaded.filter((p) => LAZY.test(p)), []);
  });

  it('the WebRTC and WS-FLV modules do load them (the probe would see a static import)', () => {
    const loaded = cjsLoadedByImporting('./media/servers/whep/conn.ts');
    assert.ok(loaded.some((p) => /\/node_modules\/@peculiar\//.test(p)), 'werift\'s dependencies');
    assert.ok(cjsLoadedByImporting('ws').some((p) => /\/node_modules\/ws\//.test(p)), 'ws');
  });
});
