import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { streamNameForLog, type Logger } from '../../../core/logging/logger.js';
import type { PlayDecision, StreamHooks } from '../../../core/media/media-contract.js';
import { HLS_PLAYLIST, HLS_SEGMENT_PATTERN } from '../../protocols/hls/ffmpeg-hls-args.js';
import { withTokenOnSegments } from '../../protocols/hls/playlist.js';
import { RETRY_AFTER_S } from '../../stream/overload-guard.js';
import type { HlsViewerTracker } from './viewers.js';

/** Stream names HLS serves (and makes folders for): room ids and the like, never a path. */
export const HLS_STREAM_NAME = /^[A-Za-z0-9_-]{1,128}$/;
const MAX_QUERY_PARAMS = 16;
const MAX_TOKEN_LENGTH = 4096;

export interface HlsHttpDeps {
  app: string;
  /** `{dataDir}/hls`: one folder per live stream under it. */
  root: string;
  hooks: StreamHooks;
  hookTimeoutMs: number;
  /** True while the stream is published and its HLS session runs. */
  isServing(streamName: string): boolean;
  viewers: HlsViewerTracker;
  /** The stream's playlist when the segmenter keeps it in memory (in-process); else it is read from disk. */
  playlistText?(streamName: string): string | undefined;
  /** Admission control (the engine's OverloadGuard): false refuses a NEW viewer's playlist request with 503. */
  admitViewer?(): boolean;
  /** The client of a request (ClientAddresses: behind a trusted proxy the one X-Forwarded-For names); else the TCP peer. */
  clientOf?(req: IncomingMessage): string;
  log: Logger;
}

/**
 * Serves `GET /{app}/{name}/index.m3u8?token=` and `GET /{app}/{name}/seg-N.ts?token=`. Every
 * request, playlist and segment alike, passes the play hook before any byte: 401 without a token,
 * 403 when refused (after a short random delay), 404 for anything unknown. Returns false for paths
 * that are not HLS so the engine can offer them to others.
 */
export function handleHlsRequest(req: IncomingMessage, res: ServerResponse, url: URL, deps: HlsHttpDeps): boolean {
  const parts = url.pathname.split('/');
  // ['', app, name, file]
  if (parts.length !== 4 || parts[1] !== deps.app) return false;
  const [, , name, file] = parts as [string, string, string, string];
  const isPlaylist = file === HLS_PLAYLIST;
  if (!isPlaylist && !HLS_SEGMENT_PATTERN.test(file)) return false;
  serve(req, res, url, deps, name, file, isPlaylist).catch((err: unknown) => {
    deps.log.error({ err }, 'HLS request failed');
    if (!res.headersSent) sendError(res, 500, 'internal', 'internal error');
    else res.destroy();
  });
  return true;
}

async function serve(
  req: IncomingMessage, res: ServerResponse, url: URL, deps: HlsHttpDeps, name: string, file: string, isPlaylist: boolean,
): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    return sendError(res, 405, 'method_not_allowed', 'method not allowed');
  }
  if (!HLS_STREAM_NAME.test(name)) return sendError(res, 404, 'not_found', 'unknown stream');
  const token = url.searchParams.get('token');
  if (!token) return sendError(res, 401, 'unauthorized', 'play token required');
  if (token.length > MAX_TOKEN_LENGTH) return sendError(res, 403, 'forbidden', 'play refused');
  const clientIp = deps.clientOf ? deps.clientOf(req) : req.socket.remoteAddress ?? '';
  // A request that would start a viewer (a new token, or one that timed out) while its address has
  // ONAIR_MEDIA_PLAYERS_PER_ADDRESS of this stream: refused before the hook, and again just before
  // it is counted (the same turn as touch()); a viewer already watching is never refused.
  const overCap = () => !deps.viewers.has(name, token, clientIp) && deps.viewers.full(name, clientIp);
  if (overCap()) return tooManyPlayers(res);
  // A viewer already watching (same stream, token and address) keeps getting its playlist and
  // segments while the engine is behind; a new one is refused before the hook is asked, as for FLV.
  if (isPlaylist && deps.admitViewer && !deps.viewers.has(name, token, clientIp) && !deps.admitViewer()) {
    res.setHeader('Retry-After', String(RETRY_AFTER_S));
    return sendError(res, 503, 'unavailable', 'server busy: the media engine is behind; retry later');
  }
  const decision = await authorize(deps, {
    app: deps.app, streamName: name, token, clientIp, protocol: 'hls', query: boundedQuery(url),
  });
  if (!decision.allow) {
    deps.log.warn({ stream: streamNameForLog(name), reason: decision.reason, ip: clientIp }, 'HLS play refused');
    await new Promise((r) => setTimeout(r, 50 + Math.random() * 100));
    return sendError(res, 403, 'forbidden', 'play refused');
  }
  if (!deps.isServing(name)) return sendError(res, 404, 'not_found', 'stream is not live');
  const path = join(deps.root, name, file);
  res.setHeader('Access-Control-Allow-Origin', '*');
  if (isPlaylist) {
    let text = deps.playlistText?.(name);
    if (text === undefined) {
      try {
        text = await readFile(path, 'utf8');
      } catch {
        return sendError(res, 404, 'not_found', 'playlist not ready');
      }
    }
    if (overCap()) return tooManyPlayers(res);
    const body = Buffer.from(withTokenOnSegments(text, token));
    res.writeHead(200, { 'Content-Type': 'application/vnd.apple.mpegurl', 'Content-Length': body.length, 'Cache-Control': 'no-cache' });
    res.end(req.method === 'HEAD' ? undefined : body);
    deps.viewers.touch(name, token, clientIp, decision.viewerId, body.length);
    return;
  }
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    return sendError(res, 404, 'not_found', 'segment gone');
  }
  if (overCap()) return tooManyPlayers(res);
  res.writeHead(200, { 'Content-Type': 'video/mp2t', 'Content-Length': size, 'Cache-Control': 'max-age=60' });
  deps.viewers.touch(name, token, clientIp, decision.viewerId, req.method === 'HEAD' ? 0 : size);
  if (req.method === 'HEAD') return void res.end();
  // A segment deleted between stat and open ends the response early; the player retries.
  await pipeline(createReadStream(path), res).catch(() => res.destroy());
}

/** The play hook with a deadline: a hook that throws or hangs refuses. */
async function authorize(deps: HlsHttpDeps, req: Parameters<StreamHooks['authorizePlay']>[0]): Promise<PlayDecision> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<PlayDecision>((resolve) => {
    timer = setTimeout(() => resolve({ allow: false, reason: 'hook timeout' }), deps.hookTimeoutMs);
  });
  try {
    return await Promise.race([deps.hooks.authorizePlay(req), timeout]);
  } catch (err) {
    deps.log.warn({ err }, 'play hook failed; refusing');
    return { allow: false, reason: 'hook error' };
  } finally {
    clearTimeout(timer);
  }
}

function boundedQuery(url: URL): Record<string, string> {
  const query: Record<string, string> = {};
  let n = 0;
  for (const [k, v] of url.searchParams) {
    if (++n > MAX_QUERY_PARAMS) break;
    query[k.slice(0, 64)] = v.slice(0, MAX_TOKEN_LENGTH);
  }
  return query;
}

function tooManyPlayers(res: ServerResponse): void {
  res.setHeader('Retry-After', String(RETRY_AFTER_S));
  sendError(res, 429, 'too_many_players', 'too many HLS players of this stream from your address; close one, or retry once an idle one has timed out');
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  if (res.headersSent) return void res.destroy();
  const body = JSON.stringify({ error: { code, message } });
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}
