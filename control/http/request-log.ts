import type { RequestHandler } from 'express';
import type { Logger } from '../../core/logging/logger.js';
import { safeUrl } from '../../core/logging/logger.js';

/**
 * One log line per request: method, path without its query (it may carry ?token=), status and
 * time. Headers and bodies are never logged (Authorization, passwords, stream keys).
 */
export function requestLog(log: Logger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const entry = { method: req.method, url: safeUrl(req.originalUrl), status: res.statusCode, ms: Math.round(ms * 10) / 10 };
      if (res.statusCode >= 500) log.warn(entry, 'http');
      else log.debug(entry, 'http');
    });
    next();
  };
}
