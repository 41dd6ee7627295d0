import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** An npm script of the form `[NAME=value ...] node [--flag ...] file`. */
export interface NodeScript {
  env: Record<string, string>;
  flags: string[];
  file: string;
}

/**
 * Reads `script` from package.json at `root`, so benchmarks and tests run a service exactly as
 * `npm start` / `npm run start:media` do. Throws when the script is not a plain node command.
 */
export function nodeScript(root: string, script: string): NodeScript {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const words = (pkg.scripts[script] ?? '').split(' ').filter(Boolean);
  const env: Record<string, string> = {};
  while (words.length && /^[A-Z_][A-Z0-9_]*=/.test(words[0]!)) {
    const [name, ...value] = words.shift()!.split('=');
    env[name!] = value.join('=');
  }
  if (words[0] !== 'node' || words.length < 2) throw new Error(`npm script '${script}' is not "[ENV=...] node [flags] file"`);
  return { env, flags: words.slice(1, -1), file: words.at(-1)! };
}
