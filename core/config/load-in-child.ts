import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { deserialize } from 'node:v8';
import type { OnairConfig } from './schema.js';
import { parseS3Url } from './s3-url.js';
import { ValidationError } from '../errors.js';

/**
 * loadConfig() run in a short-lived child process, for a service that wants to keep zod out of its
 * own memory: the media service. Importing zod and building the schema costs about 5 MB of heap
 * that nothing frees, and the allocations at start grow V8's young generation to 16 MB, which only
 * V8's memory reducer gives back, ~25 s later; together ~17 MB of idle RSS (docs/benchmarks.md,
 * "Media service memory"). A worker thread was tried first: its torn-down isolate left 2-6 MB
 * behind in the allocator. The child runs the same schema and checks and hands back the config in
 * the structured-clone format (class instances are rebuilt here: the S3 target); it costs one Node
 * start (~0.1-0.3 s) at service start. Throws the same ValidationError as loadConfig().
 */
export function loadConfigInChild(env: NodeJS.ProcessEnv = process.env): OnairConfig {
  // Under tsx (tests, `tsx media/main.ts`) the child runs the .ts source with the same loader.
  const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
  const script = fileURLToPath(new URL(`./config-child.${ext}`, import.meta.url));
  const out = execFileSync(process.execPath, [...process.execArgv, script], { env, stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 16 * 1024 * 1024 });
  const msg = deserialize(out) as { config?: OnairConfig; error?: { name: string; message: string } };
  if (msg.error) {
    if (msg.error.name === 'ValidationError') throw new ValidationError(msg.error.message);
    throw new Error(`configuration could not be loaded: ${msg.error.message}`);
  }
  const config = msg.config!;
  if (config.s3.url) config.s3.target = parseS3Url(config.s3.url);
  return config;
}
