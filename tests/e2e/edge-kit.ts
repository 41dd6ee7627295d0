/**
 * Runs the real nginx configs with Debian's nginx, in front of a test stack:
 *   - nginx/nginx.conf, compose's edge (startEdge, testNginxConf), nginx started directly;
 *   - infra/nginx/edge.conf, the cluster's edge (startEdgeNginx, testEdgeConf), started by the
 *     real edge-start.sh, which writes the edge secret's include first.
 * The file is rendered into a temporary prefix (upstreams, listen port, pid, temp, cache and log
 * paths rewritten). Every rewrite must match exactly once, so a change to the config that the test
 * would silently miss fails loudly.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const NGINX_CONF = new URL('../../nginx/nginx.conf', import.meta.url).pathname;
export const EDGE_CONF = new URL('../../infra/nginx/edge.conf', import.meta.url).pathname;
export const EDGE_START = new URL('../../infra/nginx/edge-start.sh', import.meta.url).pathname;

export interface EdgeTargets {
  controlPort: number;
  mediaPort: number;
  listenPort: number;
  prefix: string;
}

/** Replaces the one match of `pattern` in `file`'s text (`$1` in `replacement` is the first group). */
function replaceOnce(file: string, text: string, pattern: RegExp, replacement: string): string {
  const matches = text.match(new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : pattern.flags + 'g'));
  if (!matches || matches.length !== 1) throw new Error(`${file}: expected exactly one match for ${pattern}, found ${matches?.length ?? 0}`);
  return text.replace(pattern, replacement);
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/** The rewrites both configs need: upstreams, listen port, one worker, temp paths into the prefix, the pid file. */
function renderCommon(file: string, source: string, t: EdgeTargets): string {
  let conf = source;
  conf = replaceOnce(file, conf, /server control:8080;/, `server 127.0.0.1:${t.controlPort};`);
  conf = replaceOnce(file, conf, /server media:8081;/, `server 127.0.0.1:${t.mediaPort};`);
  conf = replaceOnce(file, conf, /listen 80;/, `listen 127.0.0.1:${t.listenPort};`);
  conf = replaceOnce(file, conf, /worker_processes auto;/, 'worker_processes 1;');
  conf = replaceOnce(file, conf, /^http \{$/m, [
    'http {',
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((k) => `  ${k}_temp_path ${t.prefix}/${k}_temp;`),
  ].join('\n'));
  return `pid ${t.prefix}/nginx.pid;\n${conf}`;
}

/** nginx/nginx.conf with compose's hostnames and paths replaced by local ones. Pure (text in, text out). */
export function renderNginxConf(source: string, t: EdgeTargets, asRoot: boolean): string {
  let conf = replaceOnce('nginx.conf', source, /access_log \/dev\/stdout onair;/, `access_log ${t.prefix}/access.log onair;`);
  // Same level as the real file, only the destination changes.
  conf = replaceOnce('nginx.conf', conf, /error_log stderr (\w+);/, `error_log ${t.prefix}/error.log $1;`);
  // As root, workers would drop to "nobody" and could not use the 0700 temp prefix.
  return `${asRoot ? 'user root;\n' : ''}${renderCommon('nginx.conf', conf, t)}`;
}

/** infra/nginx/edge.conf with the cluster's names and paths replaced by local ones. Pure (text in, text out). */
export function renderEdgeConf(source: string, t: EdgeTargets): string {
  // The official image's user; as root here the workers must stay root to use the 0700 prefix.
  let conf = replaceOnce('edge.conf', source, /^user nginx;$/m, isRoot() ? 'user root;' : '');
  conf = replaceOnce('edge.conf', conf, /include \/run\/onair-edge\/secret\.conf;/, `include ${t.prefix}/secret.conf;`);
  conf = replaceOnce('edge.conf', conf, /proxy_cache_path \/var\/cache\/nginx\/onair-hls /, `proxy_cache_path ${t.prefix}/cache `);
  conf = replaceOnce('edge.conf', conf, /access_log \/dev\/stdout onair_edge;/, `access_log ${t.prefix}/access.log onair_edge;`);
  conf = replaceOnce('edge.conf', conf, /error_log stderr crit;/, `error_log ${t.prefix}/error.log crit;`);
  return renderCommon('edge.conf', conf, t);
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
export type RunningEdge = Edge;

/** One of the two edges: its config, how it is rendered, how nginx is started, where it says it is up. */
interface Site {
  name: string;
  render(prefix: string, backendPort: number, listenPort: number): string;
  /** The command before nginx's own arguments: ['nginx'], or edge-start.sh then nginx. */
  command: string[];
  env(prefix: string): NodeJS.ProcessEnv | undefined;
  health: string;
}

const composeSite: Site = {
  name: 'nginx',
  render: (prefix, backendPort, listenPort) =>
    renderNginxConf(readFileSync(NGINX_CONF, 'utf8'), { controlPort: backendPort, mediaPort: backendPort, listenPort, prefix }, isRoot()),
  command: ['nginx'],
  env: () => undefined,
  health: '/healthz',
};

const clusterSite = (secret: string): Site => ({
  name: 'edge',
  render: (prefix, backendPort, listenPort) =>
    renderEdgeConf(readFileSync(EDGE_CONF, 'utf8'), { controlPort: backendPort, mediaPort: backendPort, listenPort, prefix }),
  command: ['sh', EDGE_START, 'nginx'],
  env: (prefix) => ({ ...process.env, ONAIR_EDGE_SECRET: secret, EDGE_SECRET_FILE: join(prefix, 'secret.conf') }),
  health: '/edge-healthz',
});

/** Renders the site's config into a new prefix; returns the paths. */
function prepare(site: Site, backendPort: number, listenPort: number): { prefix: string; confPath: string } {
  const prefix = mkdtempSync(join(tmpdir(), `onair-${site.name}-`));
  const confPath = join(prefix, `${site.name}.conf`);
  writeFileSync(confPath, site.render(prefix, backendPort, listenPort));
  return { prefix, confPath };
}

/** `nginx -t` on a rendered copy (through the site's launcher); returns nginx's exit status and output. */
function testConf(site: Site, backendPort: number): { status: number | null; output: string } {
  const { prefix, confPath } = prepare(site, backendPort, 1);
  try {
    const [command, ...args] = site.command;
    const res = spawnSync(command!, [...args, '-t', '-p', prefix, '-e', join(prefix, 'error.log'), '-c', confPath], {
      encoding: 'utf8', timeout: 10_000, env: site.env(prefix),
    });
    return { status: res.status, output: `${res.stdout}${res.stderr}` };
  } finally {
    rmSync(prefix, { recursive: true, force: true });
  }
}

/** Starts nginx on the site's rendered config in front of `backendPort` and waits for its health path. */
async function start(site: Site, backendPort: number, listenPort: number, timeoutMs: number): Promise<Edge> {
  const { prefix, confPath } = prepare(site, backendPort, listenPort);
  const [command, ...args] = site.command;
  const child: ChildProcess = spawn(command!, [...args, '-p', prefix, '-e', join(prefix, 'error.log'), '-c', confPath, '-g', 'daemon off;'], {
    stdio: ['ignore', 'ignore', 'pipe'], env: site.env(prefix),
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const origin = `http://127.0.0.1:${listenPort}`;
  const readLog = (name: string) => { try { return readFileSync(join(prefix, name), 'utf8'); } catch { return ''; } };

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited (${child.exitCode}): ${stderr}${readLog('error.log')}`);
    if (await fetch(`${origin}${site.health}`).then((r) => r.status === 200, () => false)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${site.name} not serving after ${timeoutMs} ms: ${stderr}${readLog('error.log')}`);
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

/** `nginx -t` on a rendered nginx/nginx.conf. */
export function testNginxConf(backendPort: number): { status: number | null; output: string } {
  return testConf(composeSite, backendPort);
}

/** Starts nginx on the rendered nginx/nginx.conf in front of `backendPort` (control and media share it in the all-in-one). */
export async function startEdge(backendPort: number, timeoutMs = 10_000): Promise<Edge> {
  return start(composeSite, backendPort, await freePort(), timeoutMs);
}

/** edge-start.sh then `nginx -t` on a rendered infra/nginx/edge.conf. */
export function testEdgeConf(backendPort: number, secret: string): { status: number | null; output: string } {
  return testConf(clusterSite(secret), backendPort);
}

/** Starts the cluster's edge (edge.conf through edge-start.sh) on `listenPort` in front of `backendPort`. */
export function startEdgeNginx(backendPort: number, listenPort: number, secret: string, timeoutMs = 10_000): Promise<Edge> {
  return start(clusterSite(secret), backendPort, listenPort, timeoutMs);
}
