#!/usr/bin/env node
// Prints the idle RSS of the standalone media service as `npm run start:media` runs it
// (`npm run bench:media-rss`): builds dist/, starts dist/media/main.js with the same Node flags on
// ports 0 and a throwaway data folder, and reads /proc/PID/status after 10 s and 30 s of idling
// (V8's memory reducer runs about 25 s after start when the heap grew at start). A figure, not a
// test: it prints, it asserts nothing. Linux only (/proc).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const build = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(1);

// The Node flags of package.json's start:media, so the figure is the one production sees.
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const words = pkg.scripts['start:media'].split(/\s+/);
const env = { ...process.env };
for (const w of words.filter((w) => /^[A-Z_]+=/.test(w))) env[w.split('=')[0]] = w.slice(w.indexOf('=') + 1);
const nodeFlags = words.filter((w) => w.startsWith('--'));

const dataDir = mkdtempSync(join(tmpdir(), 'onair-media-rss-'));
Object.assign(env, {
  ONAIR_DATA_DIR: dataDir, ONAIR_HTTP_PORT: '0', ONAIR_RTMP_PORT: '0', ONAIR_LOG_LEVEL: 'warn',
  ONAIR_CONTROL_URL: 'http://127.0.0.1:9', ONAIR_MEDIA_CALLBACK_KEY: 'rss-probe-media-key-0123456789', ONAIR_SECRET: 'rss-probe-secret-0123456789',
});
const child = spawn(process.execPath, [...nodeFlags, 'dist/media/main.js'], { cwd: root, env, stdio: ['ignore', 'ignore', 'inherit'] });
const status = () => {
  const text = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? NaN);
  return `RSS ${(kb('VmRSS') / 1024).toFixed(1)} MB (anon ${(kb('RssAnon') / 1024).toFixed(1)}, file ${(kb('RssFile') / 1024).toFixed(1)})`;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
try {
  await sleep(10_000);
  console.log(`media service idle 10 s: ${status()}`);
  await sleep(20_000);
  console.log(`media service idle 30 s: ${status()}`);
  console.log(`load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
} finally {
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  rmSync(dataDir, { recursive: true, force: true });
}
