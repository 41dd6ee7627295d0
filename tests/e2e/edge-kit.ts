/**
 * Runs the real nginx/nginx.conf in front of a test stack: the file is rendered (upstreams, listen
 * port, pid, temp and log paths rewritten into a temp prefix) and Debian's nginx runs it for real.
 * Every rewrite must match, so a change to the config that the test would silently miss fails loudly.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const NGINX_CONF = new URL('../../nginx/nginx.conf', import.meta.url).pathname;

export interface EdgeTargets {
  controlPort: number;
  mediaPort: number;
  listenPort: number;
  prefix: string;
}

function replaceOnce(text: string, pattern: RegExp, replacement: string): string {
  const matches = text.match(new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : pattern.flags + 'g'));
  if (!matches || matches.length !== 1) throw new Error(`nginx.conf: expected exactly one match for ${pattern}, found ${matches?.length ?? 0}`);
  return text.replace(pattern, replacement);
}

/** The real config with compose's hostnames and paths replaced by local ones. Pure (text in, text out). */
export function renderNginxConf(source: string, t: EdgeTargets, asRoot: boolean): string {
  let conf = source;
  conf = replaceOnce(conf, /server control:8080;/, `server 127.0.0.1:${t.controlPort};`);
  conf = replaceOnce(conf, /server media:8081;/, `server 127.0.0.1:${t.mediaPort};`);
  conf = replaceOnce(conf, /listen 80;/, `listen 127.0.0.1:${t.listenPort};`);
  conf = replaceOnce(conf, /access_log \/dev\/stdout onair;/, `access_log ${t.prefix}/access.log onair;`);
  // Same level as the real file, only the destination changes.
  conf = replaceOnce(conf, /error_log stderr (\w+);/, `error_log ${t.prefix}/error.log $1;`);
  conf = replaceOnce(conf, /worker_processes auto;/, 'worker_processes 1;');
  conf = replaceOnce(conf, /^http \{$/m, [
    'http {',
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((k) => `  ${k}_temp_path ${t.prefix}/${k}_temp;`),
  ].join('\n'));
  // As root, workers would drop to "nobody" and could not use the 0700 temp prefix.
  return `${asRoot ? 'user root;\n' : ''}pid ${t.prefix}/nginx.pid;\n${conf}`;
}

/** A port that was free a moment ago (nginx cannot listen on port 0 and report it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== 'object' || !address) throw new Error('no port');
  return address.port;
}

export interface Edge {
  origin: string;
  prefix: string;
  confPath: string;
  accessLog(): string;
  errorLog(): string;
  close(): Promise<void>;
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/** `nginx -t` on a rendered copy; returns nginx's exit status and output. */
export function testNginxConf(backendPort: number): { status: number | null; output: string } {
  const prefix = mkdtempSync(join(tmpdir(), 'onair-nginx-t-'));
  try {
    const confPath = join(prefix, 'nginx.conf');
    writeFileSync(confPath, renderNginxConf(readFileSync(NGINX_CONF, 'utf8'), { controlPort: backendPort, mediaPort: backendPort, listenPort: 1, prefix }, isRoot()));
    const res = spawnSync('nginx', ['-t', '-p', prefix, '-e', join(prefix, 'error.log'), '-c', confPath], { encoding: 'utf8', timeout: 10_000 });
    return { status: res.status, output: `${res.stdout}${res.stderr}` };
  } finally {
    rmSync(prefix, { recursive: true, force: true });
  }
}

/** Starts nginx on the rendered config in front of `backendPort` (control and media share it in the all-in-one). */
export async function startEdge(backendPort: number, timeoutMs = 10_000): Promise<Edge> {
  const prefix = mkdtempSync(join(tmpdir(), 'onair-nginx-'));
  const listenPort = await freePort();
  const confPath = join(prefix, 'nginx.conf');
  writeFileSync(confPath, renderNginxConf(readFileSync(NGINX_CONF, 'utf8'), { controlPort: backendPort, mediaPort: backendPort, listenPort, prefix }, isRoot()));
  const child: ChildProcess = spawn('nginx', ['-p', prefix, '-e', join(prefix, 'error.log'), '-c', confPath, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const origin = `http://127.0.0.1:${listenPort}`;
  const readLog = (name: string) => { try { return readFileSync(join(prefix, name), 'utf8'); } catch { return ''; } };

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited (${child.exitCode}): ${stderr}${readLog('error.log')}`);
    const up = await fetch(`${origin}/healthz`).then((r) => r.status === 200, () => false);
    if (up) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`nginx not serving after ${timeoutMs} ms: ${stderr}${readLog('error.log')}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }

  return {
    origin,
    prefix,
    confPath,
    accessLog: () => readLog('access.log'),
    errorLog: () => readLog('error.log'),
    async close() {
      // SIGTERM lets the master stop its workers (a SIGKILLed master would orphan them).
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
      rmSync(prefix, { recursive: true, force: true });
    },
  };
}
