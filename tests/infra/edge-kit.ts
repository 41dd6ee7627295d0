/**
 * Runs the real infra/nginx/edge.conf with Debian's nginx, started by the real edge-start.sh:
 * the file is rendered (upstreams, listen port, include, cache, pid, temp and log paths rewritten
 * into a temporary prefix). Every rewrite must match exactly once, so a change to the config the
 * test would silently miss fails loudly.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../e2e/edge-kit.js';

export { freePort };
export const EDGE_CONF = new URL('../../infra/nginx/edge.conf', import.meta.url).pathname;
export const EDGE_START = new URL('../../infra/nginx/edge-start.sh', import.meta.url).pathname;

function replaceOnce(text: string, pattern: RegExp, replacement: string): string {
  const matches = text.match(new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : pattern.flags + 'g'));
  if (!matches || matches.length !== 1) throw new Error(`edge.conf: expected exactly one match for ${pattern}, found ${matches?.length ?? 0}`);
  return text.replace(pattern, () => replacement);
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/** edge.conf with the cluster's names and paths replaced by local ones. Pure (text in, text out). */
export function renderEdgeConf(source: string, t: { controlPort: number; mediaPort: number; listenPort: number; prefix: string }): string {
  let conf = source;
  // The official image's user; as root here the workers must stay root to use the 0700 prefix.
  conf = replaceOnce(conf, /^user nginx;$/m, isRoot() ? 'user root;' : '');
  conf = replaceOnce(conf, /server control:8080;/, `server 127.0.0.1:${t.controlPort};`);
  conf = replaceOnce(conf, /server media:8081;/, `server 127.0.0.1:${t.mediaPort};`);
  conf = replaceOnce(conf, /listen 80;/, `listen 127.0.0.1:${t.listenPort};`);
  conf = replaceOnce(conf, /include \/run\/onair-edge\/secret\.conf;/, `include ${t.prefix}/secret.conf;`);
  conf = replaceOnce(conf, /proxy_cache_path \/var\/cache\/nginx\/onair-hls /, `proxy_cache_path ${t.prefix}/cache `);
  conf = replaceOnce(conf, /access_log \/dev\/stdout onair_edge;/, `access_log ${t.prefix}/access.log onair_edge;`);
  conf = replaceOnce(conf, /error_log stderr crit;/, `error_log ${t.prefix}/error.log crit;`);
  conf = replaceOnce(conf, /worker_processes auto;/, 'worker_processes 1;');
  conf = replaceOnce(conf, /^http \{$/m, [
    'http {',
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((k) => `  ${k}_temp_path ${t.prefix}/${k}_temp;`),
  ].join('\n'));
  return `pid ${t.prefix}/nginx.pid;\n${conf}`;
}

export interface RunningEdge {
  origin: string;
  prefix: string;
  accessLog(): string;
  close(): Promise<void>;
}

/** Renders edge.conf into a prefix; returns the paths. */
function prepare(backendPort: number, listenPort: number) {
  const prefix = mkdtempSync(join(tmpdir(), 'onair-edge-'));
  const confPath = join(prefix, 'edge.conf');
  writeFileSync(confPath, renderEdgeConf(readFileSync(EDGE_CONF, 'utf8'), { controlPort: backendPort, mediaPort: backendPort, listenPort, prefix }));
  return { prefix, confPath };
}

/** edge-start.sh then `nginx -t`: exit status and output. */
export function testEdgeConf(backendPort: number, secret: string): { status: number | null; output: string } {
  const { prefix, confPath } = prepare(backendPort, 1);
  try {
    const res = spawnSync('sh', [EDGE_START, 'nginx', '-t', '-p', prefix, '-e', join(prefix, 'error.log'), '-c', confPath], {
      encoding: 'utf8', timeout: 10_000, env: { ...process.env, ONAIR_EDGE_SECRET: secret, EDGE_SECRET_FILE: join(prefix, 'secret.conf') },
    });
    return { status: res.status, output: `${res.stdout}${res.stderr}` };
  } finally {
    rmSync(prefix, { recursive: true, force: true });
  }
}

/** Starts nginx on the rendered edge.conf through edge-start.sh, in front of `backendPort`. */
export async function startEdgeNginx(backendPort: number, listenPort: number, secret: string, timeoutMs = 10_000): Promise<RunningEdge> {
  const { prefix, confPath } = prepare(backendPort, listenPort);
  const child: ChildProcess = spawn('sh', [EDGE_START, 'nginx', '-p', prefix, '-e', join(prefix, 'error.log'), '-c', confPath, '-g', 'daemon off;'], {
    stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ONAIR_EDGE_SECRET: secret, EDGE_SECRET_FILE: join(prefix, 'secret.conf') },
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const origin = `http://127.0.0.1:${listenPort}`;
  const readLog = (name: string) => { try { return readFileSync(join(prefix, name), 'utf8'); } catch { return ''; } };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited (${child.exitCode}): ${stderr}${readLog('error.log')}`);
    if (await fetch(`${origin}/edge-healthz`).then((r) => r.status === 200, () => false)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`edge not serving after ${timeoutMs} ms: ${stderr}${readLog('error.log')}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    origin,
    prefix,
    accessLog: () => readLog('access.log'),
    async close() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
      rmSync(prefix, { recursive: true, force: true });
    },
  };
}
