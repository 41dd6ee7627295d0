import { randomInt } from 'node:crypto';
import type { OnairConfig } from '../../core/config/schema.js';
import { ConflictError } from '../../core/errors.js';
import { streamNameForLog, type Logger } from '../../core/logging/logger.js';
import type { PlayDecision, PlayRequest } from '../../core/media/media-contract.js';
import { decidePlay, playTokenKey, signPlayToken } from '../../core/tokens/play-token.js';
import type { RoomService } from '../rooms/room.service.js';
import { edgePlayUrls, playUrls, type EdgePlayUrls, type PlayUrls } from '../rooms/room-urls.js';

/** What issuePlayToken() hands out. */
export type IssuedPlayToken = { token: string; expiresAt: Date; edge?: EdgePlayUrls } & PlayUrls;

/**
 * The JSON a viewer gets for an issued token, the same from `GET /play-token` and `POST /enter`:
 * the token, its expiry, the play URLs, and the edge-signed URLs when a CDN-style edge is
 * configured (ONAIR_EDGE_URL + ONAIR_EDGE_SECRET).
 */
export function playGrant(issued: IssuedPlayToken) {
  return {
    token: issued.token,
    expires_at: issued.expiresAt.toISOString(),
    flv_url: issued.flv_url,
    whep_url: issued.whep_url,
    hls_url: issued.hls_url,
    rtmp_url: issued.rtmp_url,
    ws_url: issued.ws_url,
    ...issued.edge,
  };
}

export interface PlaybackDeps {
  roomService: Pick<RoomService, 'view'>;
  config: Pick<OnairConfig, 'secret' | 'host' | 'publicHost' | 'http' | 'rtmp' | 'live' | 'edge'>;
  log: Logger;
  now?: () => number;
  refusalDelayMs?: number;
}

/**
 * Play tokens: short-lived HMAC tokens bound to the room's public stream name (its id) and to the
 * viewer when logged in. authorizePlay is the play hook; a stream key or a push txSecret never passes.
 */
export class PlaybackService {
  private readonly now: () => number;
  private readonly key: string;

  constructor(private readonly deps: PlaybackDeps) {
    this.now = deps.now ?? Date.now;
    this.key = playTokenKey(deps.config);
  }

  /** GET /rooms/{id}/play-token: 409 not_live unless the room's session is live. */
  async issuePlayToken(roomId: string, viewerId?: string): Promise<IssuedPlayToken> {
    // Every viewer asks for a token: read the cached room view (invalidated on every live/ended
    // transition), not the database. The media hook verifies the token again at play time.
    const room = await this.deps.roomService.view(roomId);
    if (!room.is_live) throw new ConflictError('the room is not live', { code: 'not_live' });
    const exp = Math.floor((this.now() + this.deps.config.live.playTokenTtl) / 1000);
    const token = signPlayToken(this.key, { room: room.id, viewer: viewerId, exp });
    // The edge's signature expires with the token: a URL is good for as long as its token.
    const edge = edgePlayUrls(this.deps.config, room.id, token, exp);
    return { token, expiresAt: new Date(exp * 1000), ...playUrls(this.deps.config, room.id, token), ...(edge ? { edge } : {}) };
  }

  async authorizePlay(req: PlayRequest): Promise<PlayDecision> {
    const decision = decidePlay(this.key, this.deps.config.rtmp.app, req, Math.floor(this.now() / 1000));
    if (!decision.allow) {
      // streamName is what the player asked for: maybe a stream key in a room id's place.
      this.deps.log.warn({ reason: decision.reason, streamName: streamNameForLog(req.streamName), ip: req.clientIp, protocol: req.protocol }, 'play refused');
      const delay = this.deps.refusalDelayMs ?? 100;
      if (delay > 0) await new Promise((r) => setTimeout(r, randomInt(delay + 1)));
    }
    return decision;
  }
}
