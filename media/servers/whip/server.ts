import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../../core/logging/logger.js';
import type { StreamHooks } from '../../../core/media/media-contract.js';
import { askHook, refusalDelay } from '../../stream/hook-call.js';
import type { StreamRegistry } from '../../stream/registry.js';
import { AddressSlots, type ClientAddresses } from '../../stream/players-per-address.js';
import { createPublishedStream } from '../rtmp/publishing.js';
import { CORS, MAX_OFFER_BYTES, iceLinkHeader, lazyModule, readBody, reply, replyFailure, routeSession, type PeerSettings } from '../whep/http.js';
import type { WhipConn } from './conn.js';

/** conn.ts, and with it werift, loads with the first offer (lazyModule in whep/http.ts says why). */
const loadConn = lazyModule(() => import('./conn.js'));

/** POST /{app}/{name}/whip; DELETE (and PATCH, refused) on /{app}/{name}/whip/{id}. */
const WHIP_PATH = /^\/([A-Za-z0-9_-]{1,64})\/([A-Za-z0-9_.-]{1,128})\/whip(?:\/([A-Za-z0-9_-]{1,64}))?$/;
/** Publishers answered but not yet connected, at most. */
const MAX_CONNECTING = 64;
const TOO_MANY_CONNECTING = 'too many WebRTC publishers connecting from your address; wait for them to connect or end';
/** An offer names H.264 video (a=rtpmap:<pt> H264/90000) or we cannot take it. */
const OFFERS_H264 = /^a=rtpmap:\d+ H264\/90000/im;

export interface WhipDeps {
  hooks: StreamHooks;
  streams: StreamRegistry;
  hookTimeoutMs: number;
  onRefused(kind: 'publish' | 'play'): void;
  log: Logger;
  peer: PeerSettings;
  /** ffmpeg for Opus -> AAC; undefined: video only. */
  ffmpegPath: string | undefined;
  gopCacheBytes: number;
  newPublisherId(): string;
  idleTimeoutMs: number;
  firstMediaTimeoutMs: number;
  connectTimeoutMs?: number;
  /**
   * The client's address (behind ONAIR_TRUSTED_PROXIES the one X-Forwarded-For names; the publish
   * hook's clientIp too) and the cap of publishers one address may have connecting
   * (ONAIR_MEDIA_PLAYERS_PER_ADDRESS); without it the TCP peer is the client and nothing is capped.
   */
  addresses?: ClientAddresses;
}

/**
 * WHIP ingest (RFC 9725): an anchor POSTs an SDP offer with the room's stream key as the bearer
 * token to /{app}/{room}/whip. The publish hook decides before any peer exists (401 without a key,
 * 403 refused or the key of another room, 503 when the hook does not answer); the answer is 201
 * with every ICE candidate (no trickle) and a Location to DELETE at the end. The stream is then
 * published like an RTMP one: the same registry Stream (publish.started/ended, recording, HLS,
 * every play protocol, kickPublisher) fed by a Publishing with the same deadlines.
 */
export class WhipServer {
  private readonly conns = new Map<string, WhipConn>();
  private connecting = 0;
  /**
   * Publishers connecting per client address, at most ONAIR_MEDIA_PLAYERS_PER_ADDRESS, so one client
   * cannot take the 64 (an anchor with many rooms posting offers that never connect locked every
   * other anchor out of WebRTC ingest: 503, and the hook starved by the answers' work).
   */
  private readonly connectingBy: AddressSlots | undefined;

  constructor(private readonly deps: WhipDeps) {
    this.connectingBy = deps.addresses ? new AddressSlots(deps.addresses) : undefined;
  }

  get size(): number {
    return this.conns.size;
  }

  handle(req: IncomingMessage, res: ServerResponse, url: URL): boolean {
    const m = WHIP_PATH.exec(url.pathname);
    if (!m) return false;
    const [, app, name, id] = m as unknown as [string, string, string, string | undefined];
    routeSession(req, res, id, {
      post: () => this.post(req, res, url, app, name),
      remove: (sid) => {
        const conn = this.conns.get(sid);
        if (!conn || conn.streamName !== name) return false;
        conn.close('unpublished');
        return true;
      },
      failed: (err) => replyFailure(res, err, this.deps.log, 'whip publish failed'),
    });
    return true;
  }

  private async post(req: IncomingMessage, res: ServerResponse, url: URL, app: string, room: string): Promise<void> {
    const conns = loadConn();
    conns.catch(() => undefined); // awaited below, unless the offer is refused first
    const body = await readBody(req, MAX_OFFER_BYTES);
    if (body === undefined) {
      reply(res, 413, 'offer too large');
      return;
    }
    const streamKey = /^Bearer\s+(\S{1,256})$/i.exec(req.headers.authorization ?? '')?.[1];
    if (!streamKey) {
      this.deps.onRefused('publish');
      reply(res, 401, 'the stream key is required as the bearer token (Authorization: Bearer <stream key>)', { 'WWW-Authenticate': 'Bearer' });
      return;
    }
    if (!/^application\/sdp\b/i.test(req.headers['content-type'] ?? '')) {
      reply(res, 415, 'the offer must be application/sdp');
      return;
    }
    const sdp = body.toString('utf8');
    if (!sdp.startsWith('v=0')) {
      reply(res, 400, 'the body is not an SDP offer');
      return;
    }
    // Checked before the hook, so a publish is not claimed for an offer we cannot take.
    if (!OFFERS_H264.test(sdp)) {
      reply(res, 415, 'WHIP takes H.264 video; the offer has none (a VP8/VP9/AV1-only encoder: choose H.264)');
      return;
    }
    const query: Record<string, string> = {};
    let n = 0;
    for (const [k, v] of url.searchParams) if (++n <= 32 && !(k in query)) query[k] = v;
    const { addresses } = this.deps;
    const clientIp = addresses ? addresses.clientOf(req) : req.socket.remoteAddress ?? '';
    // Before the hook (nothing asked, nothing claimed for an address already at its cap) and again
    // after it; a place is taken only once the publish is allowed.
    const tooMany = () => this.connectingBy?.full(clientIp) === true;
    if (tooMany()) return reply(res, 429, TOO_MANY_CONNECTING, { 'Retry-After': '2' }, 'too_many_publishers');
    const decision = await askHook(() => this.deps.hooks.authorizePublish({ app, streamKey, query, clientIp }), this.deps.hookTimeoutMs, this.deps.log, 'authorizePublish');
    if (res.destroyed) return;
    if (!decision.allow || decision.streamName !== room) {
      const reason = decision.allow ? 'the stream key is not this room\'s' : decision.reason;
      this.deps.onRefused('publish');
      this.deps.log.warn({ reason, room }, 'whip publish refused');
      await refusalDelay();
      if (reason === 'hook timeout' || reason === 'hook error') reply(res, 503, 'publish authorization unavailable; retry later', { 'Retry-After': '2' });
      else reply(res, 403, `publish refused: ${reason}`);
      return;
    }
    const { WhipConn } = await conns;
    if (res.destroyed) return;
    if (tooMany()) return reply(res, 429, TOO_MANY_CONNECTING, { 'Retry-After': '2' }, 'too_many_publishers');
    if (this.connecting >= MAX_CONNECTING) {
      reply(res, 503, 'too many WebRTC publishers connecting', { 'Retry-After': '2' });
      return;
    }
    this.connecting++;
    const release = this.connectingBy?.take(clientIp);
    let counted = true;
    const settle = () => {
      if (!counted) return;
      counted = false;
      this.connecting--;
      release?.();
    };
    const conn = new WhipConn({
      peer: this.deps.peer,
      log: this.deps.log,
      ffmpegPath: this.deps.ffmpegPath,
      connectTimeoutMs: this.deps.connectTimeoutMs ?? 15_000,
      onClosed: (c) => {
        settle();
        this.conns.delete(c.id);
      },
      onConnected: settle,
    });
    this.conns.set(conn.id, conn);
    let answer: string;
    try {
      answer = await conn.answer(sdp);
    } catch (err) {
      conn.close();
      throw err;
    }
    if (res.destroyed || conn.isClosed) {
      conn.close();
      return;
    }
    const publishing = createPublishedStream({
      streams: this.deps.streams,
      decision,
      app,
      publisherId: this.deps.newPublisherId(),
      clientIp,
      gopCacheBytes: this.deps.gopCacheBytes,
      log: this.deps.log,
      idleTimeoutMs: this.deps.idleTimeoutMs,
      firstMediaTimeoutMs: this.deps.firstMediaTimeoutMs,
      onIdle: () => conn.close('idle'),
    });
    const stream = publishing.stream;
    conn.attach(stream, publishing);
    this.deps.log.info({ stream: stream.name, publisher: stream.publisherId }, 'whip publish started');
    res.writeHead(201, {
      ...CORS,
      'Content-Type': 'application/sdp',
      'Content-Length': Buffer.byteLength(answer),
      Location: `/${app}/${room}/whip/${conn.id}`,
      'Cache-Control': 'no-store',
      ...iceLinkHeader(this.deps.peer),
    });
    res.end(answer);
  }

  close(): void {
    for (const c of [...this.conns.values()]) c.close('closed');
  }
}
