import type { ErrorRequestHandler, RequestHandler } from 'express';
import {
  ConflictError, ForbiddenError, InvalidStateError, NotFoundError, OnairError, RateLimitedError, UnauthorizedError,
  UnavailableError, ValidationError,
} from '../../core/errors.js';
import type { Logger } from '../../core/logging/logger.js';
import { safeUrl } from '../../core/logging/logger.js';

/** The one place that turns domain errors into HTTP statuses. Clients get `{error:{code,message}}`, never a stack. */
export function statusOf(err: OnairError): number {
  if (err instanceof ValidationError) return 400;
  if (err instanceof UnauthorizedError) return 401;
  if (err instanceof ForbiddenError) return 403;
  if (err instanceof NotFoundError) return 404;
  if (err instanceof ConflictError || err instanceof InvalidStateError) return 409;
  if (err instanceof RateLimitedError) return 429;
  if (err instanceof UnavailableError) return 503;
  return 500;
}

/** body-parser's errors carry `type` and `status`; map the ones clients cause. */
function bodyParserError(err: unknown): { status: number; code: string; message: string } | undefined {
  if (typeof err !== 'object' || err === null || !('type' in err)) return undefined;
  switch ((err as { type: unknown }).type) {
    case 'entity.parse.failed': return { status: 400, code: 'invalid_json', message: 'request body is not valid JSON' };
    case 'entity.too.deep': return { status: 400, code: 'json_too_deep', message: (err as { message?: string }).message ?? 'JSON nested too deep' };
    case 'entity.nul': return { status: 400, code: 'nul_character', message: 'the request must not hold a NUL character' };
    case 'entity.too.large': return { status: 413, code: 'body_too_large', message: 'request body is too large' };
    case 'encoding.unsupported':
    case 'charset.unsupported': return { status: 415, code: 'unsupported_encoding', message: 'unsupported body encoding' };
    case 'request.aborted': return { status: 400, code: 'aborted', message: 'request aborted' };
    case 'entity.verify.failed':
    case 'request.size.invalid':
    case 'stream.encoding.set':
    case 'parameters.too.many': return { status: 400, code: 'invalid_body', message: 'invalid request body' };
    default: break;
  }
  return undefined;
}

/**
 * Other errors the client caused and the framework marked as such (http-errors' `expose` with a
 * 4xx status; express' URIError 400): a path whose percent-encoding does not decode, a body whose
 * Content-Encoding does not inflate (zlib's Z_DATA_ERROR through body-parser). Their messages
 * name internals, so the answer says it in its own words.
 */
function clientFault(err: unknown): { status: number; code: string; message: string } | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { status, expose } = err as { status?: unknown; expose?: unknown };
  // express' router marks its URIError 400 without `expose`.
  if (err instanceof URIError && status === 400) return { status: 400, code: 'invalid_request', message: 'the path is not valid percent-encoding' };
  if (expose !== true || typeof status !== 'number' || status < 400 || status > 499) return undefined;
  if (typeof (err as { errno?: unknown }).errno === 'number' && /^Z_/.test(String((err as { code?: unknown }).code))) {
    return { status: 400, code: 'invalid_body', message: 'the request body does not match its Content-Encoding' };
  }
  return { status, code: status === 400 ? 'invalid_request' : 'refused', message: 'the request was refused' };
}

export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const parsed = bodyParserError(err) ?? clientFault(err);
    let status: number;
    let code: string;
    let message: string;
    if (parsed) {
      ({ status, code, message } = parsed);
    } else if (err instanceof OnairError) {
      status = statusOf(err);
      code = err.code;
      message = status === 500 ? 'internal error' : err.message;
    } else {
      status = 500;
      code = 'internal';
      message = 'internal error';
    }
    if (status >= 500) log.error({ err, method: req.method, url: safeUrl(req.originalUrl) }, 'request failed');
    // A body built to break the parser is an attack signal an operator wants to see; other refusals are routine.
    else if (code === 'json_too_deep') log.warn({ code, method: req.method, url: safeUrl(req.originalUrl), ip: req.ip }, 'request refused');
    else log.debug({ code, method: req.method, url: safeUrl(req.originalUrl) }, 'request refused');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (err instanceof RateLimitedError) res.set('Retry-After', String(Math.max(1, Math.ceil(err.retryAfterMs / 1000))));
    res.status(status).json({ error: { code, message } });
  };
}

export const notFoundHandler: RequestHandler = (_req, res) => {
  res.status(404).json({ error: { code: 'not_found', message: 'no such endpoint' } });
};

/**
 * No API input holds a NUL character: the embedded database (sqlite3) cuts a statement at one, so a
 * `?q=a%00` or a path segment `%00` failed as a 500 instead of matching nothing. JSON bodies are
 * checked by the parser's verify hook (core/http/json-depth.ts); this checks the path and the query (express decodes %00 into both).
 */
export const refuseNul: RequestHandler = (req, res, next) => {
  // A NUL reaches the path or the query only as %00 (node's parser refuses a raw one).
  if (req.url.includes('%00')) {
    res.status(400).json({ error: { code: 'nul_character', message: 'the request must not hold a NUL character' } });
    return;
  }
  next();
};

/** JSON endpoints accept JSON only: a body with another content type is refused with 415. */
export const requireJsonBody: RequestHandler = (req, res, next) => {
  const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
  if (hasBody && !req.is('application/json')) {
    res.status(415).json({ error: { code: 'unsupported_media_type', message: 'use Content-Type: application/json' } });
    return;
  }
  next();
};
