#!/usr/bin/env node
// Runs every *.test.ts in the repository with Node's test runner (TypeScript through tsx),
// one file at a time: many suites bind ports, spawn ffmpeg or share the MariaDB/Redis servers.
// Usage: npm test [-- substring ...]  (only files whose path contains one of the substrings)
// Ends with the line "N passed, N failed[, N skipped]" that CI reads.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const skipDirs = new Set(['node_modules', 'data', '.git', 'coverage']);

function findTests(dir) {
  const found = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      if (!skipDirs.has(entry.name) && !entry.name.startsWith('.')) found.push(...findTests(join(dir, entry.name)));
    } else if (entry.name.endsWith('.test.ts')) {
      found.push(relative(root, join(dir, entry.name)));
    }
  }
  return found;
}

const filters = process.argv.slice(2);
const files = findTests(root)
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  console.log('0 passed, 0 failed');
  process.exit(1);
}

let passed = 0;
let failed = 0;
let skipped = 0;
const failedFiles = [];
for (const file of files) {
  const started = Date.now();
  const res = spawnSync(
    process.execPath,
    // A test that hangs is failed by node:test itself after 240 s, with its name and the hooks
    // run, before the file's 5-minute kill below (which would report nothing but the kill).
    ['--import', 'tsx', '--test', '--test-reporter=tap', '--test-timeout=240000', file],
    { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024, timeout: 5 * 60_000, killSignal: "SIGKILL" },
  );
  const out = res.stdout ?? '';
  process.stdout.write(out);
  const count = (name) => Number(out.match(new RegExp(`^# ${name} (\\d+)$`, 'm'))?.[1] ?? 0);
  const p = count('pass');
  const s = count('skipped') + count('todo');
  let f = count('fail') + count('cancelled');
  if (res.status !== 0 && f === 0) f = 1; // crashed, timed out or failed outside a test
  if (res.signal === 'SIGKILL') {
    console.error(`[runner] ${file} was killed after 5 minutes: it hung (its output so far is above)`);
    // node --test runs the file in a child of its own, which the kill above leaves running (with
    // its browsers and servers) for the rest of the suite: end it too.
    spawnSync('pkill', ['-KILL', '-f', `--import tsx ${join(root, file)}`]);
  }
  passed += p;
  failed += f;
  skipped += s;
  if (f > 0) failedFiles.push(file);
  console.error(`[${f > 0 ? 'FAIL' : 'ok'}] ${file}: ${p} passed, ${f} failed, ${s} skipped (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}
// Under ONAIR_STRICT (CI) nothing may skip: a skip means a tool the suite needs is missing.
if (process.env.ONAIR_STRICT === '1' && skipped > 0) {
  console.error(`ONAIR_STRICT=1: ${skipped} skipped test(s) count as failures`);
  failed += skipped;
}
if (failedFiles.length) console.error(`failed files:\n  ${failedFiles.join('\n  ')}`);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);
