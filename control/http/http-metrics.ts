import type { RequestHandler } from 'express';
import { Counter, Histogram, type Registry } from 'prom-client';

/**
 * Request counter and latency histogram. The route label is the matched express route pattern
 * (`/api/v1/rooms/:id`), or 'unmatched', so ids and junk paths cannot blow up label cardinality.
 */
export function httpMetrics(registry: Registry): RequestHandler {
  const existing = registry.getSingleMetric('onair_http_requests_total') as Counter<'method' | 'route' | 'status'> | undefined;
  const requests = existing ?? new Counter({
    name: 'onair_http_requests_total',
    help: 'HTTP requests handled by control',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const latency = (registry.getSingleMetric('onair_http_request_duration_seconds') as Histogram<'method' | 'route'> | undefined) ?? new Histogram({
    name: 'onair_http_request_duration_seconds',
    help: 'HTTP request latency in control',
    labelNames: ['method', 'route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const methods = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);
  return (req, res, next) => {
    const end = latency.startTimer();
    res.on('finish', () => {
      const routePath = req.route?.path;
      // baseUrl is reset when an error leaves a router, so routers record their mount point (markMountPoint).
      const base = typeof res.locals.mountPoint === 'string' ? res.locals.mountPoint : req.baseUrl;
      const route = typeof routePath === 'string' ? `${base}${routePath}` : 'unmatched';
      const method = methods.has(req.method) ? req.method : 'OTHER';
      requests.inc({ method, route, status: String(res.statusCode) });
      end({ method, route });
    });
    next();
  };
}

/** Put first in a mounted router: remembers its mount point for the route label. */
export const markMountPoint: RequestHandler = (req, res, next) => {
  res.locals.mountPoint = req.baseUrl;
  next();
};
