import express, { type Express, type Router } from 'express';
import type { Registry } from 'prom-client';
import type { Logger } from '../../core/logging/logger.js';
import { authenticate, type TokenVerifier } from './auth.middleware.js';
import { errorHandler, notFoundHandler, refuseNul, requireJsonBody } from './error-handler.js';
import { httpMetrics, markMountPoint } from './http-metrics.js';
import { requestLog } from './request-log.js';
import { verifyJsonBody } from '../../core/http/json-depth.js';
import { trustProxyFn } from './trust-proxy.js';
import { handleMetricsOnMainPort, type MetricsAccess } from '../../core/http/metrics-endpoint.js';
import { apiSecurityHeaders } from '../../core/http/security-headers.js';

export interface HealthCheck {
  /** Name -> probe; a probe that throws or takes longer than 2 s marks the service unhealthy (503). */
  [name: string]: () => Promise<unknown>;
}

export interface ControlAppOptions {
  log: Logger;
  metrics: Registry;
  /** express/body-parser size, e.g. '64kb' (config.http.bodyLimit). */
  bodyLimit: string;
  auth: TokenVerifier;
  /** Routers mounted under /api/v1, in order. Their paths are full (e.g. '/rooms/:id') for bounded metric labels. */
  routers: Router[];
  /** Routers that read their own raw body (signed callbacks), mounted under /api/v1 before the JSON parser. */
  rawRouters?: Router[];
  health: HealthCheck;
  /** ONAIR_TRUSTED_PROXIES: req.ip is then the client these proxies name in X-Forwarded-For. */
  trustedProxies?: readonly string[];
  /** ONAIR_METRICS_TOKEN / ONAIR_METRICS_ADDRESS: who may read /metrics (public when unset). */
  metricsAccess?: MetricsAccess;
}

async function probe(fn: () => Promise<unknown>): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([fn(), new Promise((_, reject) => { timer = setTimeout(() => reject(new Error('timeout')), 2_000); })]);
    return 'ok';
  } catch {
    return 'down';
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The control HTTP app: /healthz, /metrics and the JSON API under /api/v1. Unknown /api paths get a
 * JSON 404; other paths fall through, so the all-in-one process can mount media's handlers on this app.
 */
export function createControlApp(options: ControlAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('trust proxy', trustProxyFn(options.trustedProxies ?? []));
  app.use(apiSecurityHeaders());
  app.use(requestLog(options.log.child({ mod: 'http' })));
  app.use(httpMetrics(options.metrics));

  app.get('/healthz', (_req, res, next) => {
    Promise.all(Object.entries(options.health).map(async ([name, fn]) => [name, await probe(fn)] as const))
      .then((results) => {
        const checks = Object.fromEntries(results);
        const ok = results.every(([, s]) => s === 'ok');
        res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'degraded', checks });
      })
      .catch(next);
  });
  // Bearer token and/or a listener of its own (core/http/metrics-endpoint.ts); public when neither is set.
  app.get('/metrics', (req, res) => {
    handleMetricsOnMainPort(req, res, options.metrics, options.metricsAccess ?? {}, options.log);
  });

  const api = express.Router();
  api.use(markMountPoint);
  for (const router of options.rawRouters ?? []) api.use(router);
  api.use(refuseNul);
  api.use((req, res, next) => (req.path.startsWith('/hook/') ? next() : requireJsonBody(req, res, next)));
  // verifyJsonBody: UTF-8 only, and no nesting deeper than MAX_JSON_DEPTH (400 json_too_deep, logged).
  // The hooks parse their own bodies once their guard passed (control/hooks): no anonymous body is read there.
  const json = express.json({ limit: options.bodyLimit, strict: true, type: 'application/json', verify: verifyJsonBody });
  api.use((req, res, next) => (req.path.startsWith('/hook/') ? next() : json(req, res, next)));
  api.use(authenticate(options.auth));
  for (const router of options.routers) api.use(router);
  app.use('/api/v1', api);
  app.use('/api', notFoundHandler);
  app.use(errorHandler(options.log.child({ mod: 'http' })));
  return app;
}
