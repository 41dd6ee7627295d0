import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../../core/logging/logger.js';
import { authorizePlay, type PlayAuthDeps } from '../../stream/play-auth.js';
import type { ViewerRegistry } from '../../stream/viewer-registry.js';
import type { Stream } from '../../stream/stream.js';
import { OpusFeeds } from './opus-feed.js';
import type { WhepConn } from './conn.js';
import { AddressSlots, type PlayersPerAddress } from '../../stream/players-per-address.js';
import { MAX_OFFER_BYTES, lazyModule, readBody, reply, replyFailure, replySdpAnswer, routeSession, type PeerSettings } from './http.js';

/**
 * conn.ts, and with it werift: loaded and warmed up in the background at the first publish when
 * `warmOnPublish` is on (WhepServer.warm), else with the first offer (lazyModule in whep/http.ts); a
 * media service with nothing live never loads it (its idle RSS).
 */
const loadConn = lazyModule(() => import('./conn.js'));

/** POST /{app}/{name}/whep; DELETE (and PATCH, refused) on /{app}/{name}/whep/{id}. */
const WHEP_PATH = /^\/([A-Za-z0-9_-]{1,64})\/([A-Za-z0-9_.-]{1,128})\/whep(?:\/([A-Za-z0-9_-]{1,64}))?$/;
/** Peers answered but not yet connected, at most (each holds UDP sockets). */
const MAX_CONNECTING = 256;
const TOO_MANY_CONNECTING = 'too many WebRTC offers connecting from your address; wait for them to connect or end';

export interface WhepDeps extends PlayAuthDeps {
  viewers: ViewerRegistry;
  log: Logger;
  peer: PeerSettings;
  /** ffmpeg for AAC -> Opus; undefined: video only. */
  ffmpegPath: string | undefined;
  connectTimeoutMs?: number;
  /** A connected peer silent (no RTCP) this long is closed (default 10 s). */
  silenceTimeoutMs?: number;
  /** config.media.webrtcWarm: load and warm up werift at the first publish (WhepServer.warm). */
  warmOnPublish?: boolean;
  /** Players per client address: the client's address, and the cap of offers one address may have connecting. */
  players?: PlayersPerAddress;
}

/**
 * WHEP playback (RFC 9725 draft as browsers and OBS use it): the viewer POSTs an SDP offer with
 * its play token (`?token=` or `Authorization: Bearer`), the play hook decides before anything
 * else (401 / 403, then 404 when nothing is live), and the answer comes back as 201 with every
 * ICE candidate in it (no trickle: PATCH is 405) and a Location to DELETE when done.
 */
export class WhepServer {
  private readonly conns = new Map<string, WhepConn>();
  private readonly opus: OpusFeeds | undefined;
  private connecting = 0;
  /**
   * Offers connecting per client address (PlayersPerAddress.addressOf), at most ONAIR_MEDIA_PLAYERS_PER_ADDRESS:
   * before, one client with one play token posted 256 offers that never connect in ~4 s and every
   * other WebRTC viewer got 503 for the 15 s connect timeout, again and again.
   */
  private readonly connectingBy: AddressSlots | undefined;
  private warming: Promise<void> | undefined;
  private warm_ = false;

  constructor(private readonly deps: WhepDeps) {
    this.opus = deps.ffmpegPath ? new OpusFeeds(deps.ffmpegPath, deps.log.child({ mod: 'opus' })) : undefined;
    this.connectingBy = deps.players ? new AddressSlots(deps.players) : undefined;
    deps.streams.on('publish', (s) => {
      if (deps.warmOnPublish) this.warm();
      // A republish takes its parked viewers over (ViewerRegistry.adopt); their audio follows.
      for (const c of this.conns.values()) if (c.streamName === s.name) c.republished(s as Stream);
    });
  }

  /** WebRTC (conn.ts, werift) is loaded: after the first publish (warmOnPublish) or offer. */
  get isWebrtcLoaded(): boolean {
    return loadConn.loaded;
  }

  /** The warm-up (warm) has run werift's throwaway pair to 'connected'. */
  get isWarm(): boolean {
    return this.warm_;
  }

  /**
   * Loads werift at the first publish, in the background, and runs it once end to end on a
   * throwaway loopback pair (peer.ts warmUp: offer, answer, ICE, DTLS, the process's certificate),
   * so the process's first viewer does not pay werift's load and first run (~0.5 s of its answer,
   * docs/benchmarks.md). The price: the load's synchronous part (~0.15-0.2 s with the built bundle,
   * 0.3-0.7 s from node_modules under tsx) stalls the event loop once per process, at the first
   * publish instead of the first offer, and ~12 MB of RSS in a process that has something live even
   * if nobody plays it over WebRTC. Nothing is loaded while nothing is live.
   */
  private warm(): void {
    if (this.warming) return;
    const t0 = performance.now();
    this.warming = new Promise<void>((r) => setImmediate(r))
      .then(() => loadConn())
      .then(() => import('./peer.js'))
      .then((m) => m.warmUp(this.deps.peer))
      .then((ok) => {
        this.warm_ = ok;
        this.deps.log.info({ ms: Math.round(performance.now() - t0), ok }, 'webrtc warmed up');
      })
      .catch((err: unknown) => {
        this.warming = undefined;
        this.deps.log.warn({ err }, 'webrtc warm-up failed; the first offer loads it');
      });
  }

  get size(): number {
    return this.conns.size;
  }

  get transcoders(): number {
    return this.opus?.size ?? 0;
  }

  handle(req: IncomingMessage, res: ServerResponse, url: URL): boolean {
    const m = WHEP_PATH.exec(url.pathname);
    if (!m) return false;
    const [, app, name, id] = m as unknown as [string, string, string, string | undefined];
    routeSession(req, res, id, {
      post: () => this.post(req, res, url, app, name),
      remove: (sid) => {
        const conn = this.conns.get(sid);
        if (!conn || conn.streamName !== name) return false;
        conn.close();
        return true;
      },
      failed: (err) => replyFailure(res, err, this.deps.log, 'whep play failed'),
    });
    return true;
  }

  private async post(req: IncomingMessage, res: ServerResponse, url: URL, app: string, streamName: string): Promise<void> {
    const offerAt = performance.now();
    const conns = loadConn();
    conns.catch(() => undefined); // awaited below, unless the offer is refused first
    const body = await readBody(req, MAX_OFFER_BYTES);
    if (body === undefined) {
      reply(res, 413, 'offer too large');
      return;
    }
    const query: Record<string, string> = {};
    let n = 0;
    for (const [k, v] of url.searchParams) if (++n <= 32 && !(k in query)) query[k] = v;
    const bearer = /^Bearer\s+(\S{1,2048})$/i.exec(req.headers.authorization ?? '')?.[1];
    if (bearer) query.token = bearer;
    const { players } = this.deps;
    const clientIp = players ? players.clientOf(req) : req.socket.remoteAddress ?? '';
    const tooMany = () => this.connectingBy?.full(clientIp) === true;
    if (tooMany()) return reply(res, 429, TOO_MANY_CONNECTING, { 'Retry-After': '2' });
    const auth = await authorizePlay(this.deps, { protocol: 'webrtc', app, streamName, query, clientIp });
    if (res.destroyed) return;
    if (!auth.ok) {
      if (auth.status === 503) {
        // Admission control (the engine's OverloadGuard), as for HTTP-FLV.
        reply(res, 503, 'server busy: the media engine is behind on its writes; retry later', { 'Retry-After': '2' });
        return;
      }
      reply(res, auth.status, auth.status === 404 ? 'stream not found' : auth.status === 401 ? 'token required' : 'play refused');
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
    const stream = auth.stream;
    if (stream.video && stream.video.codec !== 'H264') {
      reply(res, 415, `WebRTC plays H.264 only; this stream is ${stream.video.codec}`);
      return;
    }
    const { WhepConn } = await conns;
    if (res.destroyed) return;
    if (tooMany()) return reply(res, 429, TOO_MANY_CONNECTING, { 'Retry-After': '2' });
    if (this.connecting >= MAX_CONNECTING) {
      reply(res, 503, 'too many WebRTC viewers connecting', { 'Retry-After': '2' });
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
    const conn = new WhepConn(stream, clientIp, auth.viewerId, {
      viewers: this.deps.viewers,
      opus: this.opus,
      peer: this.deps.peer,
      log: this.deps.log,
      connectTimeoutMs: this.deps.connectTimeoutMs ?? 15_000,
      silenceTimeoutMs: this.deps.silenceTimeoutMs ?? 10_000,
      onClosed: (c) => {
        settle();
        this.conns.delete(c.id);
      },
    }, offerAt);
    this.conns.set(conn.id, conn);
    let answer: string;
    try {
      answer = await conn.answer(sdp);
    } catch (err) {
      conn.close();
      throw err;
    }
    if (res.destroyed) {
      conn.close();
      return;
    }
    conn.onConnected = settle;
    replySdpAnswer(res, `/${app}/${streamName}/whep/${conn.id}`, answer, this.deps.peer);
  }

  close(): void {
    for (const c of [...this.conns.values()]) c.close();
    this.opus?.closeAll();
  }
}
