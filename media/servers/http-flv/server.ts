import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../../../core/logging/logger.js';
import { FLV_HEADER } from '../../protocols/flv/flv-tag.js';
import { authorizePlay, type PlayAuthDeps } from '../../stream/play-auth.js';
import { RETRY_AFTER_S } from '../../stream/overload-guard.js';
import type { PlayersPerAddress } from '../../stream/players-per-address.js';
import type { ViewerRegistry } from '../../stream/viewer-registry.js';
import type { MediaPacket } from '../../stream/media-packet.js';

/** /{app}/{name}.flv: names are what rooms and keys map to, so a strict character set is enough. */
const FLV_PATH = /^\/([A-Za-z0-9_-]{1,64})\/([A-Za-z0-9_.-]{1,128})\.flv$/;

const flvTagOf = (p: MediaPacket): Buffer => p.flvTag();

export interface HttpFlvDeps extends PlayAuthDeps {
  viewers: ViewerRegistry;
  log: Logger;
  /** Players per client address (ONAIR_MEDIA_PLAYERS_PER_ADDRESS); without it the TCP peer is the client and nothing is capped. */
  players?: PlayersPerAddress;
}

const TOO_MANY = 'too many players of this stream from your address; close one';

const CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS',
  'Access-Control-Allow-Headers': 'Range, Origin, Accept',
  'Access-Control-Expose-Headers': 'Content-Length',
};

/**
 * HTTP-FLV: GET /{app}/{name}.flv?token=... The play hook answers before any byte (401 without a
 * token, 403 refused, then 404 when nothing is live: names never leak to unauthorized callers).
 * After the headers the response body is written straight to the socket, not through the
 * ServerResponse: no chunked framing, shared tag buffers, corked writes flushed once per interval.
 */
export class HttpFlvServer {
  constructor(private readonly deps: HttpFlvDeps) {}

  /** Returns true when the request is an FLV play request (and is then answered). */
  handle(req: IncomingMessage, res: ServerResponse, url: URL): boolean {
    const m = FLV_PATH.exec(url.pathname);
    if (!m) return false;
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { ...CORS, 'Access-Control-Max-Age': '600' }).end();
      return true;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      reply(res, 405, 'method not allowed', { Allow: 'GET, HEAD, OPTIONS' });
      return true;
    }
    this.play(req, res, url, m[1]!, m[2]!).catch((err) => {
      this.deps.log.error({ err }, 'http-flv play failed');
      if (!res.headersSent) reply(res, 500, 'internal error');
      else res.destroy();
    });
    return true;
  }

  private async play(req: IncomingMessage, res: ServerResponse, url: URL, app: string, streamName: string): Promise<void> {
    const query: Record<string, string> = {};
    let n = 0;
    for (const [k, v] of url.searchParams) if (++n <= 32 && !(k in query)) query[k] = v;
    const { players } = this.deps;
    const clientIp = players ? players.clientOf(req) : req.socket.remoteAddress ?? '';
    // Before the hook (no work for a refused one), and again after it: players admitted meanwhile
    // count, and nothing between that check and start() below yields to the event loop.
    if (players?.full(streamName, clientIp)) return reply(res, 429, TOO_MANY, { 'Retry-After': String(RETRY_AFTER_S) });
    const auth = await authorizePlay(this.deps, { protocol: 'http-flv', app, streamName, query, clientIp });
    if (res.destroyed || req.socket.destroyed) return;
    if (!auth.ok) {
      if (auth.status === 503) {
        reply(res, 503, 'server busy: the media engine is behind on its writes; retry later', { 'Retry-After': String(RETRY_AFTER_S) });
        return;
      }
      reply(res, auth.status, auth.status === 404 ? 'stream not found' : auth.status === 401 ? 'token required' : 'play refused');
      return;
    }
    if (players?.full(auth.stream.name, clientIp)) return reply(res, 429, TOO_MANY, { 'Retry-After': String(RETRY_AFTER_S) });
    const headers = {
      ...CORS,
      'Content-Type': 'video/x-flv',
      'Cache-Control': 'no-cache, no-store',
      Pragma: 'no-cache',
      Connection: 'close',
    };
    if (req.method === 'HEAD') {
      res.writeHead(200, headers).end();
      return;
    }
    // Body delimited by the connection close: no Transfer-Encoding, so raw socket writes are valid.
    res.useChunkedEncodingByDefault = false;
    res.shouldKeepAlive = false;
    const socket = res.socket as Socket;
    socket.setNoDelay(true);
    // The head goes out in the same write as the start-up burst (FLV header, metadata, sequence
    // headers, the cached GOP): written on its own it cost a syscall and a string write of its own
    // per join (~5 % of a join ramp's CPU). The socket is corked around it, and uncorked by an
    // immediate queued after the burst's (ViewerRegistry.start has the session flushed in the
    // scheduler's urgent immediate: scheduleNow), so both leave in one writev. The FLV header is
    // always queued, so a viewer waiting for a first keyframe gets its 200 with that header in the
    // same turn of the event loop; if the scheduler holds the burst past this turn, the uncork
    // sends the head alone, as before. (socket.end and destroy uncork as well.)
    socket.cork();
    res.writeHead(200, headers);
    res.flushHeaders();
    const stream = auth.stream;
    const hasVideo = stream.video !== undefined || stream.metadata?.videocodecid !== undefined || !stream.ready;
    const hasAudio = stream.audio !== undefined || stream.metadata?.audiocodecid !== undefined || !stream.ready;
    const session = this.deps.viewers.start({
      stream,
      protocol: 'http-flv',
      clientIp,
      viewerId: auth.viewerId,
      sink: socket,
      socket,
      encode: flvTagOf,
      preamble: [FLV_HEADER(hasAudio, hasVideo)],
      closeTransport: (reason) => {
        if (reason === 'stream-ended') socket.end();
        else socket.destroy();
      },
    });
    // After start(): this immediate runs after the scheduler's, which writes the burst.
    setImmediate(() => socket.uncork());
    const onGone = () => session.end('closed');
    socket.once('close', onGone);
    socket.on('error', () => session.end('closed')); // a reset by the viewer is just a disconnect
    // A viewer never sends after the request: reading keeps the socket's close detection working.
    socket.resume();
  }
}

const ERROR_CODES: Record<number, string> = { 401: 'unauthorized', 403: 'forbidden', 404: 'not_found', 405: 'method_not_allowed', 429: 'too_many_players', 500: 'internal', 503: 'unavailable' };

function reply(res: ServerResponse, status: number, message: string, extra: Record<string, string> = {}): void {
  const body = JSON.stringify({ error: { code: ERROR_CODES[status] ?? 'error', message } });
  res.writeHead(status, { ...CORS, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), ...extra });
  res.end(body);
}
