import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../core/logging/logger.js';
import type { MediaControl } from '../../core/media/media-contract.js';
import { controlPayload } from '../../core/media/media-api-signature.js';
import { remoteSchemas } from './lazy-schemas.js';
import { MEDIA_SIGNATURE_HEADER, MEDIA_TIMESTAMP_HEADER, verifyMediaCallback } from '../../core/callbacks/media-callback-signature.js';

export interface ControlApiDeps {
  control: MediaControl;
  /** config.callbacks.mediaKey; without it the API refuses every call. */
  key: string | undefined;
  log: Logger;
}

const MAX_BODY = 16 * 1024;

/**
 * Media's small control API, signed with the media key (see callback-signature.ts):
 * `POST /api/kick/publisher {stream}`, `POST /api/kick/viewer {viewer}`, `GET /api/streams`.
 * Returns false for paths outside /api/ so the caller can serve them.
 */
export function handleControlApi(req: IncomingMessage, res: ServerResponse, url: URL, deps: ControlApiDeps): boolean {
  if (!url.pathname.startsWith('/api/')) return false;
  serve(req, res, url, deps).catch((err: unknown) => {
    deps.log.error({ err }, 'control API request failed');
    send(res, 500, { error: { code: 'internal', message: 'internal error' } });
  });
  return true;
}

async function serve(req: IncomingMessage, res: ServerResponse, url: URL, deps: ControlApiDeps): Promise<void> {
  const route = `${req.method} ${url.pathname}`;
  const known = ['POST /api/kick/publisher', 'POST /api/kick/viewer', 'GET /api/streams'];
  if (!known.includes(route)) return send(res, 404, { error: { code: 'not_found', message: 'no such route' } });
  if (!deps.key) return send(res, 503, { error: { code: 'unavailable', message: 'control API needs callbacks.mediaKey' } });
  const body = await readBody(req);
  if (body === undefined) return send(res, 413, { error: { code: 'too_large', message: 'body too large' } });
  const ts = header(req, MEDIA_TIMESTAMP_HEADER);
  const sig = header(req, MEDIA_SIGNATURE_HEADER);
  if (!verifyMediaCallback(deps.key, ts, sig, Buffer.from(controlPayload(req.method!, url.pathname, body))).ok) {
    deps.log.warn({ route }, 'control API call with a bad signature');
    return send(res, 401, { error: { code: 'unauthorized', message: 'bad signature' } });
  }
  if (route === 'GET /api/streams') return send(res, 200, { streams: await deps.control.listStreams() });
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return send(res, 400, { error: { code: 'invalid_request', message: 'body is not JSON' } });
  }
  const { kickPublisherBody, kickViewerBody } = await remoteSchemas();
  if (route === 'POST /api/kick/publisher') {
    const parsed = kickPublisherBody.safeParse(json);
    if (!parsed.success) return send(res, 400, { error: { code: 'invalid_request', message: 'expected {stream}' } });
    return send(res, 200, { kicked: await deps.control.kickPublisher(parsed.data.stream) });
  }
  const parsed = kickViewerBody.safeParse(json);
  if (!parsed.success) return send(res, 400, { error: { code: 'invalid_request', message: 'expected {viewer}' } });
  return send(res, 200, { kicked: await deps.control.kickViewer(parsed.data.viewer) });
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The body as text, or undefined past the cap (the rest is not read). */
function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        req.removeAllListeners('data');
        req.resume();
        resolve(undefined);
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, payload: unknown): void {
  if (res.headersSent) return void res.destroy();
  const body = JSON.stringify(payload);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}
