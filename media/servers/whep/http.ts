import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../../core/logging/logger.js';
import { iceServersLink, type IceServer } from '../../../core/config/ice-servers.js';

/**
 * The HTTP side shared by WHEP (playback) and WHIP (ingest). It imports nothing of werift: the
 * servers load werift (conn.ts, peer.ts; ~30 MB of RSS) at the first publish or offer, not at start.
 */

export interface PeerSettings {
  /** Extra ICE host addresses (config.media.webrtcIceHosts). */
  iceHosts: string[];
  /** UDP port range (config.media.webrtcPorts). */
  portRange?: [number, number];
  /** STUN/TURN servers (config.media.webrtcIceServers). */
  iceServers?: IceServer[];
}

/** The answer's Link header listing the ICE servers (RFC 9725 4.4), when there are any. */
export function iceLinkHeader(s: PeerSettings): Record<string, string> {
  const link = iceServersLink(s.iceServers ?? []);
  return link ? { Link: link } : {};
}

/** The 201 that carries an SDP answer: its session's resource URL (Location) and the ICE servers. */
export function replySdpAnswer(res: ServerResponse, location: string, answer: string, peer: PeerSettings): void {
  res.writeHead(201, {
    ...CORS,
    'Content-Type': 'application/sdp',
    'Content-Length': Buffer.byteLength(answer),
    Location: location,
    'Cache-Control': 'no-store',
    ...iceLinkHeader(peer),
  });
  res.end(answer);
}

/** Thrown for an offer we cannot answer (400, or 415 when it has no usable H.264). */
export class OfferError extends Error {
  constructor(readonly status: 400 | 415, message: string) {
    super(message);
  }
}

/** An SDP offer is a few KiB; a larger body is refused unread. */
export const MAX_OFFER_BYTES = 64 * 1024;

export const CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'POST, DELETE, PATCH, OPTIONS',
  'Access-Control-Allow-Headers': 'Authorization, Content-Type, If-Match',
  'Access-Control-Expose-Headers': 'Location, ETag, Link',
};

export function readBody(req: IncomingMessage, max: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > max) {
      req.resume();
      resolve(undefined);
      return;
    }
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (b: Buffer) => {
      size += b.length;
      if (size > max) {
        req.removeAllListeners('data');
        req.resume();
        resolve(undefined);
        return;
      }
      parts.push(b);
    });
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}

const ERROR_CODES: Record<number, string> = {
  400: 'bad_request', 401: 'unauthorized', 403: 'forbidden', 404: 'not_found', 405: 'method_not_allowed', 413: 'payload_too_large', 429: 'too_many_players',
  415: 'unsupported_media_type', 500: 'internal', 503: 'unavailable',
};

/** An error answer `{error: {code, message}}`; `code` defaults to the status's (ERROR_CODES). */
export function reply(res: ServerResponse, status: number, message: string, extra: Record<string, string> = {}, code?: string): void {
  if (res.headersSent) return;
  const body = JSON.stringify({ error: { code: code ?? ERROR_CODES[status] ?? 'error', message } });
  res.writeHead(status, { ...CORS, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), ...extra });
  res.end(body);
}

/** The answer to a failed POST: an OfferError's own status, else 500 (logged as `what`). */
export function replyFailure(res: ServerResponse, err: unknown, log: Logger, what: string): void {
  if (err instanceof OfferError) {
    reply(res, err.status, err.message);
    return;
  }
  log.error({ err }, what);
  if (!res.headersSent) reply(res, 500, 'internal error');
}

export interface SessionRoutes {
  /** POST on the collection (/{app}/{name}/whep or /whip): the offer. */
  post(): Promise<void>;
  /** DELETE on /.../{id}: ends the session; false when there is no such session for this stream. */
  remove(id: string): boolean;
  /** Called when post() fails (replyFailure). */
  failed(err: unknown): void;
}

/**
 * The session routing WHEP and WHIP share (RFC 9725): OPTIONS (CORS preflight), POST on the
 * collection, DELETE of a session, and 405 for the rest (PATCH: trickle ICE and ICE restarts are
 * not supported, the answer carries every candidate). `id` is the path's session id, if any.
 */
export function routeSession(req: IncomingMessage, res: ServerResponse, id: string | undefined, routes: SessionRoutes): void {
  if (req.method === 'OPTIONS') {
    res.writeHead(204, { ...CORS, 'Access-Control-Max-Age': '600' }).end();
    return;
  }
  if (id === undefined) {
    if (req.method !== 'POST') reply(res, 405, 'method not allowed', { Allow: 'POST, OPTIONS' });
    else routes.post().catch((err) => routes.failed(err));
    return;
  }
  if (req.method === 'DELETE') {
    if (routes.remove(id)) res.writeHead(200, CORS).end();
    else reply(res, 404, 'no such session');
  } else {
    reply(res, 405, 'trickle ICE is not supported', { Allow: 'DELETE, OPTIONS' });
  }
}

/**
 * A module imported on first use, once: the WHEP and WHIP servers import conn.ts, and with it werift
 * (WebRTC: ~12-30 MB of RSS, ~0.2 s to load built, 0.3-1.5 s from the sources), never at start, so
 * a media service with nothing live never loads it (docs/benchmarks.md, "Media service idle RSS").
 * WHEP loads it at the first publish when media.webrtcWarm is on (WhepServer.warm); otherwise, and
 * for WHIP, the import starts when the first POST arrives and overlaps with reading the offer and the
 * hook's round trip. A failed import is tried again by the next caller.
 */
export function lazyModule<T>(load: () => Promise<T>): (() => Promise<T>) & { readonly loaded: boolean } {
  let loading: Promise<T> | undefined;
  let loaded = false;
  const get = () => {
    loading ??= load().then(
      (m) => ((loaded = true), m),
      (err: unknown) => {
        loading = undefined;
        throw err;
      },
    );
    return loading;
  };
  return Object.defineProperty(get, 'loaded', { get: () => loaded }) as (() => Promise<T>) & { readonly loaded: boolean };
}
