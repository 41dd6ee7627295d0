import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { OnairConfig } from '../config/schema.js';
import type { Logger } from '../logging/logger.js';
import { safeEqual } from '../safe-equal.js';

/**
 * Who may read /metrics, on every role (all-in-one, control, media). The operator chooses:
 * - ONAIR_METRICS_TOKEN: a scrape must send `Authorization: Bearer <token>` (401 otherwise);
 * - ONAIR_METRICS_ADDRESS: /metrics moves to a listener of its own (`host:port`, e.g. an internal
 *   interface or 127.0.0.1), and the public port answers 404 for it;
 * - both, or neither (then /metrics is public on the main port, as before).
 */
export type MetricsAccess = OnairConfig['metrics'];

const METRICS_PATH = '/metrics';

/** `host:port`, `[v6]:port`, `:port` or `port` -> host and port (host defaults to `defaultHost`). */
export function parseListenAddress(text: string, defaultHost: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*))?:?(\d{1,5})$/.exec(text.trim());
  const port = Number(match?.[3]);
  if (!match || !Number.isInteger(port) || port > 65535) throw new TypeError(`not a listen address: '${text}' (use host:port, e.g. 127.0.0.1:9464)`);
  return { host: match[1] ?? (match[2] || defaultHost), port };
}

function authorized(req: IncomingMessage, token: string | undefined): boolean {
  if (!token) return true;
  const header = req.headers.authorization ?? '';
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m !== null && safeEqual(m[1]!, token);
}

function serve(req: IncomingMessage, res: ServerResponse, registry: Registry, access: MetricsAccess, log: Logger): void {
  if (!authorized(req, access.token)) {
    res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer realm="metrics"' })
      .end('{"error":{"code":"unauthorized","message":"metrics need Authorization: Bearer <ONAIR_METRICS_TOKEN>"}}');
    return;
  }
  registry.metrics().then(
    (text) => res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' }).end(text),
    (err: unknown) => {
      log.error({ err }, 'metrics failed');
      if (!res.headersSent) res.writeHead(500).end();
    },
  );
}

/**
 * /metrics on a role's main HTTP port: answers (and returns true) for GET/HEAD /metrics, with the
 * token check, or a 404 when the metrics have a listener of their own; false for any other path.
 */
export function handleMetricsOnMainPort(req: IncomingMessage, res: ServerResponse, registry: Registry, access: MetricsAccess, log: Logger): boolean {
  if ((req.url ?? '').split('?', 1)[0] !== METRICS_PATH) return false;
  if (access.address) {
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"code":"not_found","message":"no such endpoint"}}');
    return true;
  }
  serve(req, res, registry, access, log);
  return true;
}

export interface MetricsListener {
  server: Server;
  port: number;
  close(): Promise<void>;
}

/** The separate metrics listener of ONAIR_METRICS_ADDRESS, or undefined when none is configured. */
export async function startMetricsListener(registry: Registry, access: MetricsAccess, defaultHost: string, log: Logger): Promise<MetricsListener | undefined> {
  if (!access.address) return undefined;
  const { host, port } = parseListenAddress(access.address, defaultHost);
  const server = createServer((req, res) => {
    if ((req.url ?? '').split('?', 1)[0] === METRICS_PATH && (req.method === 'GET' || req.method === 'HEAD')) serve(req, res, registry, access, log);
    else res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"code":"not_found","message":"only /metrics here"}}');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as { port: number }).port;
  log.info({ host, port: bound }, 'metrics listening');
  return {
    server,
    port: bound,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
