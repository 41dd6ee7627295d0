import { randomInt } from 'node:crypto';
import { cacheKeys } from '../../core/cache/keys.js';
import type { Cache } from '../../core/cache/cache.port.js';
import type { OnairConfig } from '../../core/config/schema.js';
import { ConflictError, ForbiddenError, NotFoundError } from '../../core/errors.js';
import { TypedEmitter } from '../../core/events/typed-emitter.js';
import { newSessionId } from '../../core/ids.js';
import { maskKeys, type Logger } from '../../core/logging/logger.js';
import type {
  MediaControl, PublishDecision, PublishEnded, PublishRequest, PublishStarted, StreamStats,
} from '../../core/media/media-contract.js';
import { looksLikeStreamKey } from '../../core/tokens/stream-key.js';
import { pushSigningKey, signTxSecret, txTimeHex, verifyTxSecret } from '../../core/tokens/tx-secret.js';
import type { AuthUser } from '../auth/user.js';
import type { RoomStore } from '../rooms/room.store.js';
import type { RoomService } from '../rooms/room.service.js';
import { pushUrl } from '../rooms/room-urls.js';
import { KeyedMutex } from './keyed-mutex.js';
import { CloseMethod, type LiveSession } from './live-session.js';
import type { LiveSessionStore } from './live-session.store.js';
import { LiveStateCache } from './live-state-cache.js';

export interface LiveSessionEvents {
  [name: string]: unknown[];
  /** A session went live (first publish). */
  live: [LiveSession];
  /** A session ended (any close method). */
  ended: [LiveSession];
}

export interface LiveSessionDeps {
  sessions: LiveSessionStore;
  rooms: RoomStore;
  roomService: Pick<RoomService, 'getOwned' | 'get' | 'invalidate' | 'revokeStreamKey'>;
  moderation: { isPublishBanned(userId: string): Promise<boolean> };
  cache: Cache;
  media: Pick<MediaControl, 'kickPublisher'>;
  settlement: { schedule(sessionId: string): void };
  config: Pick<OnairConfig, 'secret' | 'host' | 'publicHost' | 'http' | 'rtmp' | 'live' | 'media'>;
  log: Logger;
  now?: () => number;
  /** Refusals are answered after a random delay up to this (ms), so probing keys is slow. Tests use 0. */
  refusalDelayMs?: number;
}

/**
 * The live lifecycle of seed 000: start -> (publish authorized) -> live -> close / force close /
 * stream cut after the reconnect grace. One room's steps run one at a time (KeyedMutex); every
 * transition is a conditional update, so replayed events and double closes are harmless.
 */
export class LiveSessionService {
  readonly observer = new TypedEmitter<LiveSessionEvents>();
  private readonly locks = new KeyedMutex();
  private readonly graceTimers = new Map<string, { sessionId: string; timer: NodeJS.Timeout }>();
  private readonly state: LiveStateCache;
  private readonly now: () => number;
  private readonly pushKey: string;
  private closed = false;

  constructor(private readonly deps: LiveSessionDeps) {
    this.now = deps.now ?? Date.now;
    if (!deps.config.secret) throw new TypeError('config.secret is not set');
    this.pushKey = pushSigningKey(deps.config.secret);
    const heartbeatMs = deps.config.live.heartbeatTimeout;
    this.state = new LiveStateCache(deps.cache, { anchorStatusMs: heartbeatMs * 2, tempMs: Math.max(deps.config.live.pushUrlTtl, heartbeatMs * 2) });
  }

  private get log(): Logger {
    return this.deps.log;
  }

  /** POST /live/start: the owner's preparing session (an existing preparing/live one is returned, never a second). */
  async start(user: AuthUser, roomId: string): Promise<{ session: LiveSession; pushUrl: string; expiresAt: Date }> {
    const room = await this.deps.roomService.getOwned(user, roomId);
    if (await this.deps.moderation.isPublishBanned(room.ownerId)) throw new ForbiddenError('publishing is banned for this user', { code: 'publish_banned' });
    if (room.streamKeyRevoked) throw new ConflictError('the stream key was revoked by an operator', { code: 'stream_key_revoked' });
    const expiresAt = new Date(this.now() + this.deps.config.live.pushUrlTtl);
    const session = await this.locks.run(room.id, async () => {
      // The anchor starts again: the hold after their last close no longer applies.
      await this.deps.cache.del(cacheKeys.closeHold(room.id));
      const active = await this.deps.sessions.findActiveByRoom(room.id);
      if (!active) return this.createSession(room.id, room.ownerId);
      // A new push URL: a preparing session lives as long as its newest URL (the reaper expires it after).
      if (active.status === 'preparing') await this.deps.sessions.extendPush(active.id, expiresAt);
      return active;
    });
    const txTime = txTimeHex(Math.floor(expiresAt.getTime() / 1000));
    const txSecret = signTxSecret(this.pushKey, room.streamKey, txTime);
    return { session, pushUrl: pushUrl(this.deps.config, room.streamKey, { txSecret, txTime }), expiresAt };
  }

  private async createSession(roomId: string, anchorId: string): Promise<LiveSession> {
    const session = await this.deps.sessions.create({
      id: newSessionId(), roomId, anchorId, pushExpiresAt: new Date(this.now() + this.deps.config.live.pushUrlTtl),
    });
    await this.state.prepared(session);
    await this.deps.roomService.invalidate(roomId);
    this.log.info({ sessionId: session.id, roomId }, 'live session prepared');
    return session;
  }

  /**
   * The publish hook: key bound to a room, not revoked, owner not banned, txSecret/txTime valid when
   * given (required with live.pushAuth 'signed'; with 'key' an OBS user with only the key may
   * publish: the session is then created here), and no other publisher on the room. An anchor may
   * be live in several of their rooms at once: each session keeps its own state (LiveStateCache).
   * Never throws for a client's mistake: refusals are decisions.
   */
  async authorizePublish(req: PublishRequest): Promise<PublishDecision> {
    const refuse = async (reason: string, extra: Record<string, unknown> = {}): Promise<PublishDecision> => {
      this.log.warn({ reason, app: maskKeys(req.app), ip: req.clientIp, ...extra }, 'publish refused');
      const delay = this.deps.refusalDelayMs ?? 100;
      if (delay > 0) await new Promise((r) => setTimeout(r, randomInt(delay + 1)));
      return { allow: false, reason };
    };
    if (this.closed) return refuse('shutting_down');
    if (req.app !== this.deps.config.rtmp.app) return refuse('unknown_app');
    if (typeof req.streamKey !== 'string' || !looksLikeStreamKey(req.streamKey)) return refuse('unknown_key');
    const room = await this.deps.rooms.findByStreamKey(req.streamKey);
    if (!room) return refuse('unknown_key');
    if (room.streamKeyRevoked) return refuse('key_revoked', { roomId: room.id });
    if (await this.deps.moderation.isPublishBanned(room.ownerId)) return refuse('publish_banned', { roomId: room.id });
    // The anchor ended the show from the studio: the encoder reconnecting is not a new show.
    if (this.deps.config.live.closeHold > 0 && (await this.deps.cache.exists(cacheKeys.closeHold(room.id)))) {
      return refuse('show_ended_by_anchor', { roomId: room.id });
    }
    const query = req.query ?? {};
    if (query.txSecret !== undefined || query.txTime !== undefined) {
      const check = verifyTxSecret(this.pushKey, req.streamKey, query, Math.floor(this.now() / 1000));
      if (!check.ok) return refuse(check.reason === 'expired' ? 'push_url_expired' : 'bad_push_signature', { roomId: room.id });
    } else if (this.deps.config.live.pushAuth === 'signed') {
      return refuse('push_signature_required', { roomId: room.id });
    }
    return this.locks.run(room.id, async () => {
      let session = await this.deps.sessions.findActiveByRoom(room.id);
      if (session && (await this.state.publisherOf(session.id))) return refuse('already_publishing', { roomId: room.id });
      const claimTtl = this.deps.config.media.hookTimeout + 2_000;
      if (!(await this.deps.cache.setIfAbsent(cacheKeys.publishClaim(room.id), req.clientIp || '-', claimTtl))) {
        return refuse('already_publishing', { roomId: room.id });
      }
      session ??= await this.createSession(room.id, room.ownerId);
      this.log.info({ roomId: room.id, sessionId: session.id, ip: req.clientIp }, 'publish allowed');
      return { allow: true as const, streamName: room.id, record: room.recordEnabled, sessionId: session.id };
    });
  }

  private async sessionFor(ev: { streamName: string; sessionId?: string }): Promise<LiveSession | null> {
    if (ev.sessionId) {
      const s = await this.deps.sessions.findById(ev.sessionId);
      if (s && s.roomId === ev.streamName) return s;
    }
    return this.deps.sessions.findActiveByRoom(ev.streamName);
  }

  /** publish.started: preparing -> live (idempotent), online set and anchor status written, grace cancelled. */
  async markLive(ev: PublishStarted): Promise<LiveSession | null> {
    return this.locks.run(ev.streamName, async () => {
      this.cancelGrace(ev.streamName);
      await this.deps.cache.del(cacheKeys.publishClaim(ev.streamName));
      let session = await this.sessionFor(ev);
      if (!session || session.status === 'ended') {
        this.log.warn({ roomId: ev.streamName, publisherId: ev.publisherId }, 'publish started without an active session: kicking it');
        await this.kick(ev.streamName);
        return null;
      }
      const changed = await this.deps.sessions.markLive(session.id, new Date(ev.at));
      session = (await this.deps.sessions.findById(session.id))!;
      await this.state.publisherAttached(session, ev.publisherId, ev.at);
      await this.deps.rooms.update(session.roomId, { isLive: true });
      await this.deps.roomService.invalidate(session.roomId);
      if (changed) {
        this.log.info({ sessionId: session.id, roomId: session.roomId }, 'live');
        this.observer.safeEmit('live', session);
      } else {
        this.log.info({ sessionId: session.id, roomId: session.roomId }, 'publisher (re)attached');
      }
      return session;
    });
  }

  /** publish.ended: the session waits config.live.reconnectGrace for the publisher to come back, then ends (close_method 3). */
  async publisherGone(ev: PublishEnded): Promise<void> {
    await this.locks.run(ev.streamName, async () => {
      await this.deps.cache.del(cacheKeys.publishClaim(ev.streamName));
      const session = await this.sessionFor(ev);
      if (!session || session.status === 'ended') return;
      const current = await this.state.publisherOf(session.id);
      if (current !== null && current !== ev.publisherId) return; // a newer publisher already took over
      await this.state.publisherDetached(session, ev.at);
      this.startGrace(session);
    });
  }

  private startGrace(session: LiveSession): void {
    if (this.closed) return;
    this.cancelGrace(session.roomId);
    const grace = this.deps.config.live.reconnectGrace;
    const timer = setTimeout(() => {
      this.graceTimers.delete(session.roomId);
      void this.graceExpired(session).catch((err: unknown) => this.log.error({ err, sessionId: session.id }, 'grace expiry failed'));
    }, grace);
    // Not unref'd: a pending end must run even in a process with nothing else to do; stop() clears it.
    this.graceTimers.set(session.roomId, { sessionId: session.id, timer });
    this.log.info({ sessionId: session.id, roomId: session.roomId, graceMs: grace }, 'publisher gone: waiting for a reconnect');
  }

  private async graceExpired(session: LiveSession): Promise<void> {
    if (await this.state.publisherOf(session.id)) return; // came back meanwhile
    await this.endSession(session.id, CloseMethod.streamCut, 'publisher gone');
  }

  private cancelGrace(roomId: string): void {
    const pending = this.graceTimers.get(roomId);
    if (pending) {
      clearTimeout(pending.timer);
      this.graceTimers.delete(roomId);
    }
  }

  /** True while the room's session waits for its publisher to reconnect. */
  inGrace(roomId: string): boolean {
    return this.graceTimers.has(roomId);
  }

  /** stream.stats: the media heartbeat. Refreshes anchor status TTL, the online count and the peak. */
  async heartbeat(stats: Pick<StreamStats, 'streamName' | 'sessionId' | 'at'> & { viewers?: Record<string, number> }): Promise<void> {
    const session = await this.sessionFor(stats);
    if (!session || session.status !== 'live') return;
    const viewers = Object.values(stats.viewers ?? {}).reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
    await this.state.heartbeat(session, stats.at, viewers);
    if (viewers > session.peakViewers) await this.deps.sessions.raisePeakViewers(session.id, viewers);
  }

  /**
   * POST /live/close by the anchor (close_method 1). The room is then held for config.live.closeHold:
   * the publisher is kicked, and the encoder's automatic reconnects are refused (`show_ended_by_anchor`)
   * instead of starting a new show, until the hold ends or the anchor calls POST /live/start.
   */
  async close(user: AuthUser, roomId: string): Promise<LiveSession> {
    const room = await this.deps.roomService.getOwned(user, roomId);
    const session = await this.deps.sessions.findActiveByRoom(room.id);
    if (!session) throw new ConflictError('the room is not live', { code: 'not_live' });
    const hold = this.deps.config.live.closeHold;
    // Held before the end (and its kick): a reconnect racing the close is refused too.
    if (hold > 0) await this.deps.cache.set(cacheKeys.closeHold(room.id), String(this.now()), hold);
    return this.endSession(session.id, CloseMethod.anchor, 'anchor closed');
  }

  /**
   * POST /admin/live/close (close_method 2): the key is revoked first, so the encoder's automatic
   * reconnect is refused; an operator gives the room a new key with /admin/rooms/{id}/restore.
   */
  async forceClose(operator: AuthUser, roomId: string, reason: string): Promise<{ session: LiveSession | null; streamKeyRevoked: true }> {
    await this.deps.roomService.get(roomId);
    await this.deps.roomService.revokeStreamKey(roomId);
    const active = await this.deps.sessions.findActiveByRoom(roomId);
    this.log.warn({ roomId, operatorId: operator.id, sessionId: active?.id }, 'force close');
    if (!active) {
      await this.kick(roomId);
      return { session: null, streamKeyRevoked: true };
    }
    return { session: await this.endSession(active.id, CloseMethod.admin, reason), streamKeyRevoked: true };
  }

  /** Ends every active session of an anchor (a publishing ban, an audit result). */
  async endAllOfAnchor(anchorId: string, closeMethod: CloseMethod, reason: string): Promise<LiveSession[]> {
    const active = await this.deps.sessions.findActiveByAnchor(anchorId);
    return Promise.all(active.map((s) => this.endSession(s.id, closeMethod, reason)));
  }

  /**
   * Ends a session, idempotently: ended + end_at + duration, Redis cleaned, publisher kicked,
   * settlement queued (never awaited). A second call returns the ended session unchanged.
   */
  async endSession(sessionId: string, closeMethod: CloseMethod, reason: string | null): Promise<LiveSession> {
    const found = await this.deps.sessions.findById(sessionId);
    if (!found) throw new NotFoundError('no such session', { code: 'session_not_found' });
    return this.locks.run(found.roomId, async () => {
      this.cancelGrace(found.roomId);
      const endAt = new Date(this.now());
      const current = (await this.deps.sessions.findById(sessionId))!;
      const durationS = current.startAt ? Math.max(0, Math.round((endAt.getTime() - current.startAt.getTime()) / 1000)) : 0;
      const ended = await this.deps.sessions.markEnded(sessionId, { endAt, durationS, closeMethod, closeReason: reason });
      const session = (await this.deps.sessions.findById(sessionId))!;
      if (!ended) return session;
      await this.state.ended(session);
      await this.deps.cache.del(cacheKeys.publishClaim(session.roomId));
      await this.deps.rooms.update(session.roomId, { isLive: false, viewersCount: 0 });
      await this.deps.roomService.invalidate(session.roomId);
      await this.kick(session.roomId);
      this.deps.settlement.schedule(session.id);
      this.log.info({ sessionId, roomId: session.roomId, closeMethod, durationS }, 'live session ended');
      this.observer.safeEmit('ended', session);
      return session;
    });
  }

  private async kick(roomId: string): Promise<boolean> {
    try {
      return await this.deps.media.kickPublisher(roomId);
    } catch (err) {
      this.log.warn({ err, roomId }, 'could not kick the publisher');
      return false;
    }
  }

  /** Stops the grace timers (sessions in grace stay live in the database; the reaper settles them). */
  stop(): void {
    this.closed = true;
    for (const { timer } of this.graceTimers.values()) clearTimeout(timer);
    this.graceTimers.clear();
  }
}
