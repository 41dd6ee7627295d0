import type { RequestHandler, Router } from 'express';
import type { Registry } from 'prom-client';
import { chatMetrics } from './chat-metrics.js';
import type { Cache } from '../../core/cache/cache.port.js';
import type { OnairConfig } from '../../core/config/schema.js';
import type { Database } from '../../core/database/database.js';
import type { Logger } from '../../core/logging/logger.js';
import type { MediaControl } from '../../core/media/media-contract.js';
import type { PubSub } from '../../core/pubsub/pubsub.port.js';
import type { RateLimits } from '../../core/rate-limit/rate-limit.port.js';
import { ForbiddenError, RateLimitedError } from '../../core/errors.js';
import { SourceAddress } from '../../core/callbacks/source-address.js';
import { clientAddress } from '../../core/http/client-address.js';
import { playTokenKey } from '../../core/tokens/play-token.js';
import { AudienceStore } from '../audience/audience.store.js';
import { entryRoutes } from '../audience/entry.routes.js';
import { Presence } from '../audience/presence.js';
import { RoomEntryService, type RoomEntryDeps } from '../audience/room-entry.service.js';
import type { AuthService } from '../auth/auth.service.js';
import type { UserStore } from '../auth/user.store.js';
import type { LiveSessionStore } from '../live-sessions/live-session.store.js';
import type { PlaybackService } from '../playback/playback.service.js';
import type { RoomService } from '../rooms/room.service.js';
import type { LikeBudget } from '../discovery/like-budget.js';
import { WsGateway } from '../ws/ws-gateway.js';
import { authenticateChat, isChatPath } from './chat-auth.js';
import { chatRoutes } from './chat.routes.js';
import { ChatConnectBudget } from './chat-connect-budget.js';
import { ConventionsSource } from './conventions.js';
import { ChatService } from './chat.service.js';
import { MessageStore } from './message.store.js';
import { RoomModerationService } from './room-moderation.service.js';
import { RoomModerationStore } from './room-moderation.store.js';

export interface ChatModuleDeps {
  config: OnairConfig;
  db: Database;
  cache: Cache;
  pubsub: PubSub;
  rateLimits: RateLimits;
  media: Pick<MediaControl, 'kickViewer'>;
  auth: Pick<AuthService, 'verifyCurrentToken'>;
  users: Pick<UserStore, 'findById'>;
  rooms: Pick<RoomService, 'view' | 'get'>;
  sessions: Pick<LiveSessionStore, 'findById' | 'findActiveByRoom' | 'raisePeakViewers'>;
  playback: Pick<PlaybackService, 'issuePlayToken'>;
  metrics: Registry;
  /** The show's like counter (control/discovery's SocialService.like); socket likes are dropped without it. */
  likes?: (roomId: string, count: number) => Promise<unknown>;
  /** ONAIR_RATE_PLAY_TOKEN (control/http/rate-limits.ts): /enter hands out play tokens as /play-token does. */
  enterLimit?: RequestHandler;
  /** ONAIR_RATE_REPORTS per user (control/http/rate-limits.ts) for POST /rooms/{id}/reports. */
  reportLimit?: RequestHandler;
  /** ONAIR_RATE_LIKES per user and room, shared with POST /rooms/{id}/like. */
  likeBudget?: Pick<LikeBudget, 'take'>;
  /** Hands audience.entered / audience.exited to the domain-event intake (main.ts: pipeline.intake). */
  emit: RoomEntryDeps['emit'];
  /** When the moderation pause of the room's anchor ends (their active ban; Infinity when permanent), null when none runs (main.ts). */
  pausedUntil?: (roomId: string) => Promise<number | null>;
  /** The operators' platform conventions (control/operator), shown on entering every room's chat. */
  platformConventions?: () => Promise<string | null>;
  log: Logger;
}

export interface ChatModule {
  gateway: WsGateway;
  chat: ChatService;
  entry: RoomEntryService;
  moderation: RoomModerationService;
  /** The messages table's batched writer. */
  messages: MessageStore;
  routers: Router[];
  start(): void;
  /** Closes the sockets (1001), stops the timers, writes queued messages and audience rows, until `deadline`. */
  close(deadline: number): Promise<void>;
}

/** Live chat, the audience funnel and in-room moderation, wired on control's ports. */
export function createChatModule(deps: ChatModuleDeps): ChatModule {
  const { config, cache, pubsub } = deps;
  const log = deps.log.child({ mod: 'chat' });
  const presence = new Presence(cache, config.chat.heartbeatTimeout);
  const messages = new MessageStore(deps.db, { log });
  const audience = new AudienceStore(deps.db);
  const store = new RoomModerationStore(deps.db);
  const conventions = new ConventionsSource({
    platform: deps.platformConventions ?? (async () => null), fallback: config.chat.conventions, room: (roomId) => store.rules(roomId),
  });
  let entry: RoomEntryService | undefined;
  let service: ChatService | undefined;
  const metrics = chatMetrics(deps.metrics, {
    sockets: () => service?.socketCount ?? 0, frames: () => service?.fanout.counters.frames ?? 0, deliveries: () => service?.fanout.counters.deliveries ?? 0,
  });
  const chat = new ChatService({
    pubsub, cache, rateLimits: deps.rateLimits, presence, messages, config: config.chat, log, metrics, likes: deps.likes, likeBudget: deps.likeBudget,
    conventions: (roomId) => conventions.of(roomId),
    onTimedOut: async (roomId, member, enteredAt, online) => entry?.timedOut(roomId, member, enteredAt, online),
    pausedUntil: deps.pausedUntil,
    accessRevoked: async (roomId, userId) => {
      try {
        await entry?.checkAccess(roomId, userId);
        return null;
      } catch (err) {
        if (err instanceof ForbiddenError) return err.code;
        throw err;
      }
    },
    onJoined: (roomId, sessionId, userId, online) => entry?.entered(roomId, sessionId, userId, online),
  });
  service = chat;
  entry = new RoomEntryService({
    cache, presence, rooms: deps.rooms, playback: deps.playback, emit: deps.emit, media: deps.media,
    isBlacklisted: (roomId, userId) => store.isBlacklisted(roomId, userId), anonymousSetting: (roomId) => store.anonymousSetting(roomId), chat, config, log: log.child({ mod: 'audience' }),
  });
  const theEntry = entry;
  const moderation = new RoomModerationService({
    store, messages, rooms: deps.rooms, entry: theEntry, cache, pubsub, kickDurationMs: config.chat.kickDuration, log,
    rulesChanged: (roomId) => conventions.forget(roomId),
  });
  const authDeps = {
    verifyJwt: (token: string) => deps.auth.verifyCurrentToken(token),
    playTokenKey: playTokenKey(config),
    sessions: deps.sessions,
    users: deps.users,
    requireRoom: (roomId: string) => deps.rooms.get(roomId),
    checkAccess: (roomId: string, userId: string) => theEntry.checkAccess(roomId, userId),
    anonymousAllowed: (roomId: string) => theEntry.anonymousAllowed(roomId),
  };
  const sources = new SourceAddress(config.http.trustedProxies);
  const connects = new ChatConnectBudget(deps.rateLimits, config.rateLimit);
  const gateway = new WsGateway({
    log,
    routes: [{
      matches: (url) => isChatPath(url.pathname),
      accept: async (req, url) => {
        const target = await authenticateChat(authDeps, req, url);
        if (target.principal.user !== null) {
          await connects.take(target.roomId, `u:${target.principal.user.id}`);
          return (ws) => void chat.open(ws, target);
        }
        const address = clientAddress(req, sources);
        if (config.chat.anonymousPerAddress > 0 && chat.anonymousSocketsFrom(target.roomId, address) >= config.chat.anonymousPerAddress) {
          throw new RateLimitedError(`at most ${config.chat.anonymousPerAddress} anonymous chat connections per address in a room: log in, or close another`, 1000, { code: 'too_many_connections' });
        }
        await connects.take(target.roomId, `a:${address}`);
        return (ws) => void chat.open(ws, { ...target, address });
      },
    }],
  });
  return {
    gateway, chat, entry, moderation, messages,
    routers: [entryRoutes(theEntry, audience, deps.enterLimit), chatRoutes({ moderation, store, messages, pubsub, reportLimit: deps.reportLimit })],
    start: () => chat.start(),
    async close(deadline) {
      await gateway.close();
      await chat.close();
      await theEntry.idle(deadline);
    },
  };
}
