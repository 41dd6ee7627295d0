// Compiles the services to plain JavaScript in dist/ (`npm run build`; `npm start` and the
// start:* scripts run it first). Why: running TypeScript through the tsx loader costs every
// process about 40 MB of RSS (Node 20 runs loader hooks in a second V8 isolate), which is more
// than a media server's whole budget. Tests, benchmarks and the admin CLI keep running under tsx.
//
// esbuild transpiles file by file (no bundling, no type checking: `npm run typecheck` does that),
// so dist/ mirrors the source tree and relative imports, import.meta.url and the migrations folder
// keep working. The web pages' static files are copied beside their compiled server.
import { build } from 'esbuild';
import { cpSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist');
const SOURCE_DIRS = ['core', 'media', 'control', 'web', 'transcoder'];
const ENTRY_FILES = ['onair.ts'];
/** Test files and test kits never run in production. */
const isTestOnly = (name) => name.endsWith('.test.ts') || name.endsWith('.d.ts');

function sources(dir) {
  let files = [];
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return files;
  }
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) files = files.concat(sources(path));
    else if (e.name.endsWith('.ts') && !isTestOnly(e.name)) files.push(path);
  }
  return files;
}

const started = performance.now();
rmSync(out, { recursive: true, force: true });
const entryPoints = [...ENTRY_FILES.map((f) => join(root, f)), ...SOURCE_DIRS.flatMap((d) => sources(join(root, d)))];
await build({
  entryPoints,
  outdir: out,
  outbase: root,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
});
const webOut = join(out, 'web');
mkdirSync(webOut, { recursive: true });
for (const f of readdirSync(join(root, 'web'))) {
  if (/\.(html|css|js)$/.test(f)) cpSync(join(root, 'web', f), join(webOut, f));
}
console.log(`built ${entryPoints.length} files into ${relative(process.cwd(), out) || '.'}/ in ${Math.round(performance.now() - started)} ms`);
