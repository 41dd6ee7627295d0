// Compiles the services to plain JavaScript in dist/ (`npm run build`; `npm start` and the
// start:* scripts run it first). Why: running TypeScript through the tsx loader costs every
// process about 40 MB of RSS (Node 20 runs loader hooks in a second V8 isolate), which is more
// than a media server's whole budget. Tests, benchmarks and the admin CLI keep running under tsx.
//
// esbuild transpiles file by file (no bundling, no type checking: `npm run typecheck` does that),
// so dist/ mirrors the source tree and relative imports, import.meta.url and the migrations folder
// keep working. The web pages' static files are copied beside their compiled server.
import { build } from 'esbuild';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist');
const SOURCE_DIRS = ['core', 'media', 'control', 'web', 'transcoder'];
const ENTRY_FILES = ['onair.ts'];
/** Test files, port contracts (test suites shared by adapters) and test kits never run in production. */
const isTestOnly = (name) => name.endsWith('.test.ts') || name.endsWith('.contract.ts') || name.endsWith('.d.ts');
/** Test kits live in a role's `testing/` folder (core/testing, control/testing, media/testing, ...). */
const isTestKitDir = (name) => name === 'testing';

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
    if (e.isDirectory() && !isTestKitDir(e.name)) files = files.concat(sources(path));
    else if (e.isFile() && e.name.endsWith('.ts') && !isTestOnly(e.name)) files.push(path);
  }
  return files;
}

/**
 * werift (WebRTC) as one ESM file, dist/vendor/werift.js, and every `from "werift"` in dist/ pointed
 * at it. Why: werift is ~445 CommonJS files; the media service loads it with the first WHEP/WHIP
 * offer, and that viewer waited for Node to resolve, stat, read, lex (ESM importing CommonJS) and
 * compile each of them: ~540-760 ms of CPU here against ~220-260 ms for the one file (and ~10 MB
 * less RSS once loaded). It still loads with the first offer only (idle RSS unchanged). The named
 * exports are listed from werift itself, so the bundle exports exactly what `werift` does.
 * tweetnacl and @fidm/x509 stay external (see native-dtls-crypto.ts).
 */
async function bundleWerift() {
  const names = Object.keys(createRequire(import.meta.url)('werift')).filter((n) => /^[A-Za-z_$][\w$]*$/.test(n) && n !== 'default');
  const file = join(out, 'vendor', 'werift.js');
  await build({
    stdin: { contents: `export { ${names.join(', ')} } from 'werift';`, resolveDir: root, sourcefile: 'werift-entry.js' },
    bundle: true,
    outfile: file,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'warning',
    // Imported from node_modules at run time, not copied in: media/servers/whep/native-dtls-crypto.ts
    // replaces their X25519 and signing functions with node:crypto on the module objects Node loaded,
    // which must be the ones werift calls (as they are under tsx). Two small CommonJS packages.
    external: ['tweetnacl', '@fidm/x509'],
    // werift's CommonJS calls require() for Node's built-ins: an ESM bundle needs one.
    banner: { js: "import { createRequire as __onairRequire } from 'node:module'; const require = __onairRequire(import.meta.url);" },
  });
  const rewrite = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) {
        if (path !== dirname(file)) rewrite(path);
      } else if (e.name.endsWith('.js')) {
        const src = readFileSync(path, 'utf8');
        const to = relative(dirname(path), file);
        const next = src.replace(/(from\s*|import\s*\(\s*)(["'])werift\2/g, (_m, pre, q) => `${pre}${q}${to.startsWith('.') ? to : `./${to}`}${q}`);
        if (next !== src) writeFileSync(path, next);
      }
    }
  };
  rewrite(out);
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
await bundleWerift();
const webOut = join(out, 'web');
mkdirSync(webOut, { recursive: true });
for (const f of readdirSync(join(root, 'web'))) {
  if (/\.(html|css|js|svg)$/.test(f)) cpSync(join(root, 'web', f), join(webOut, f));
}
console.log(`built ${entryPoints.length} files into ${relative(process.cwd(), out) || '.'}/ in ${Math.round(performance.now() - started)} ms`);
