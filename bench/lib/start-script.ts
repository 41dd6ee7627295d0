import { readFileSync } from 'node:fs';

/**
 * The environment assignments and Node flags of one of package.json's start scripts (e.g.
 * start:control), so a bench runs its server processes as production runs them: MALLOC_ARENA_MAX,
 * the V8 heap flags.
 */
export function startScript(name: string): { env: Record<string, string>; flags: string[] } {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };
  const words = (pkg.scripts[name] ?? '').split(/\s+/);
  const env: Record<string, string> = {};
  for (const w of words.filter((x) => /^[A-Z_]+=/.test(x))) env[w.slice(0, w.indexOf('='))] = w.slice(w.indexOf('=') + 1);
  return { env, flags: words.filter((w) => w.startsWith('--')) };
}
