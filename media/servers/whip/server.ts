import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../../core/logging/logger.js';
import type { PublishDecision, PublishEndReason, PublishEnded, StreamHooks } from '../../../core/media/media-contract.js';
import { askHook, refusalDelay } from '../../stream/hook-call.js';
import type { StreamRegistry } from '../../stream/registry.js';
import { AddressSlots, type ClientAddresses } from '../../stream/players-per-address.js';
import { createPublishedStream } from '../rtmp/publishing.js';
import { MAX_OFFER_BYTES, lazyModule, readBody, reply, replyFailure, replySdpAnswer, routeSession, type PeerSettings } from '../whep/http.js';
import type { WhipConn } from './conn.js';

type PublishAllowed = Extract<PublishDecision, { allow: true }>;

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
  /**
   * publish.ended for an allowed publish whose peer ended before it connected (no stream was ever
   * made): control releases its claim on the room with it, as after an RTMP publish without media.
   */
  onEndedUnconnected?(e: PublishEnded): void;
}

/**
 * WHIP ingest (RFC 9725): an anchor POSTs an SDP offer with the room's stream key as the bearer
 * token to /{app}/{room}/whip. The publish hook decides before any peer exists (401 without a key,
 * 403 refused or the key of another room, 503 when the hook does not answer); the answer is 201
 * with every ICE candidate (no trickle) and a Location to DELETE at the end. Once the peer's ICE
 * and DTLS are connected the stream is published like an RTMP one: the same registry Stream
 * (publish.started/ended, recording, HLS, every play protocol, kickPublisher) fed by a Publishing
 * with the same deadlines. A peer that is not connected media.firstMediaTimeout after its answer is
 * dropped, and was never a publish (control's claim on the room lapses with its TTL).
 */
export class WhipServer {
  /** Every peer, connected or not, with the room its Location names. */
  private readonly conns = new Map<string, { conn: WhipConn; room: string; deleted?: boolean; answered?: boolean }>();
  private connecting = 0;
  private closing = false;
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
        const entry = this.conns.get(sid);
        if (!entry || entry.room !== name) return false;
        entry.deleted = true;
        entry.conn.close('unpublished');
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
    // A place (the address's and one of the MAX_CONNECTING) is taken before the hook is asked and
    // held until the peer connects or ends: the offers of a burst are counted while their hooks
    // run, so the excess is refused at once, before any work (before, every offer of a burst asked
    // the hook at the same moment, and the places were counted only after). A refusal gives it back.
    if (this.connectingBy?.full(clientIp) === true) return reply(res, 429, TOO_MANY_CONNECTING, { 'Retry-After': '2' }, 'too_many_publishers');
    if (this.connecting >= MAX_CONNECTING) return reply(res, 503, 'too many WebRTC publishers connecting; retry later', { 'Retry-After': '2' });
    this.connecting++;
    const release = this.connectingBy?.take(clientIp);
    let counted = true;
    const settle = () => {
      if (!counted) return;
      counted = false;
      this.connecting--;
      release?.();
    };
    let conn: WhipConn | undefined;
    try {
      conn = await this.answer(res, { app, room, sdp, streamKey, query, clientIp, settle, conns });
    } finally {
      if (!conn) settle(); // refused or failed before a peer existed: the peer's end settles otherwise
    }
  }

  /** The hook, then the peer and its answer; the publish itself begins when the peer connects (publish()). */
  private async answer(
    res: ServerResponse,
    o: { app: string; room: string; sdp: string; streamKey: string; query: Record<string, string>; clientIp: string; settle: () => void; conns: ReturnType<typeof loadConn> },
  ): Promise<WhipConn | undefined> {
    const { app, room, clientIp, settle } = o;
    const decision = await askHook(() => this.deps.hooks.authorizePublish({ app, streamKey: o.streamKey, query: o.query, clientIp }), this.deps.hookTimeoutMs, this.deps.log, 'authorizePublish');
    if (res.destroyed) return undefined;
    if (!decision.allow || decision.streamName !== room) {
      const reason = decision.allow ? 'the stream key is not this room\'s' : decision.reason;
      this.deps.onRefused('publish');
      this.deps.log.warn({ reason, room }, 'whip publish refused');
      await refusalDelay();
      if (reason === 'hook timeout' || reason === 'hook error') reply(res, 503, 'publish authorization unavailable; retry later', { 'Retry-After': '2' });
      else reply(res, 403, `publish refused: ${reason}`);
      return undefined;
    }
    const { WhipConn } = await o.conns;
    if (res.destroyed) return undefined;
    let published = false;
    const answeredAt = Date.now();
    const conn: WhipConn = new WhipConn({
      peer: this.deps.peer,
      log: this.deps.log,
      ffmpegPath: this.deps.ffmpegPath,
      // A peer that does not connect is dropped when a publish without media would have been.
      connectTimeoutMs: Math.min(this.deps.connectTimeoutMs ?? 15_000, this.deps.firstMediaTimeoutMs),
      onClosed: (c) => {
        settle();
        const entry = this.conns.get(c.id);
        this.conns.delete(c.id);
        if (published) return; // the stream's close reported it
        // DELETE; the server closing; not connected in time (as RTMP's publish without media: idle); no answer (an unusable offer).
        const reason: PublishEndReason = entry?.deleted ? 'unpublished' : this.closing ? 'closed' : entry?.answered ? 'idle' : 'error';
        this.deps.onEndedUnconnected?.({
          streamName: decision.streamName, app, publisherId: this.deps.newPublisherId(), sessionId: decision.sessionId,
          at: Date.now(), reason, bytesIn: 0, durationMs: Date.now() - answeredAt,
        });
      },
      onConnected: () => {
        settle();
        if (published) return;
        published = true;
        this.publish(conn, decision, app, clientIp);
      },
    });
    const entry: { conn: WhipConn; room: string; deleted?: boolean; answered?: boolean } = { conn, room };
    this.conns.set(conn.id, entry);
    let answer: string;
    try {
      answer = await conn.answer(o.sdp);
    } catch (err) {
      conn.close();
      throw err;
    }
    if (res.destroyed || conn.isClosed) {
      conn.close();
      return conn;
    }
    entry.answered = true;
    replySdpAnswer(res, `/${app}/${room}/whip/${conn.id}`, answer, this.deps.peer);
    return conn;
  }

  /**
   * The publish, once the peer's ICE and DTLS are up: the registry's stream (the engine's and the
   * plugins' work: HLS, recording, the frame grabber's ffmpeg; publish.ended at its end) and the
   * deadlines of an RTMP publish. An offer whose peer never connects never becomes a publish: a
   * burst of such offers cost a stream and an ffmpeg each, and starved the hook of every anchor.
   */
  private publish(conn: WhipConn, decision: PublishAllowed, app: string, clientIp: string): void {
    if (conn.isClosed) return;
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
  }

  close(): void {
    this.closing = true;
    for (const { conn } of [...this.conns.values()]) conn.close('closed');
  }
}
