/**
 * The child process of loadConfigInChild(): checks the configuration of its environment and
 * writes it (or the error) to stdout with v8.serialize (the structured-clone format).
 */
import { serialize } from 'node:v8';
import { loadConfig } from './load.js';

let out: Buffer;
try {
  const config = loadConfig();
  out = serialize({ config: { ...config, s3: { url: config.s3.url } } });
} catch (err) {
  const e = err as Error;
  out = serialize({ error: { name: e.name, message: e.message } });
}
process.stdout.write(out);
