import type { IncomingMessage } from 'node:http';
import { ConflictError, ForbiddenError, NotFoundError, UnauthorizedError, ValidationError } from '../../core/errors.js';
import { verifyPlayToken } from '../../core/tokens/play-token.js';
import type { AuthUser } from '../auth/user.js';
import type { LiveSession } from '../live-sessions/live-session.js';
import type { ChatPrincipal } from './chat-conn.js';

export interface ChatAuthDeps {
  /** A JWT's user as the account is now (refused once the user is gone or changed password). */
  verifyJwt(token: string): AuthUser | Promise<AuthUser>;
  playTokenKey: string;
  sessions: { findById(id: string): Promise<LiveSession | null>; findActiveByRoom(roomId: string): Promise<LiveSession | null> };
  users: { findById(id: string): Promise<{ id: string; username: string } | null> };
  /** Throws NotFoundError (`room_not_found`) for a room that does not exist. */
  requireRoom(roomId: string): Promise<unknown>;
  /** Throws ForbiddenError (`kicked`, `blacklisted`) when the user may not be in the room. */
  checkAccess(roomId: string, userId: string): Promise<void>;
  /** Whether anonymous tickets may read in the room (the room's setting, else ONAIR_CHAT_ANONYMOUS). */
  anonymousAllowed(roomId: string): Promise<boolean>;
  now?: () => number;
}

export interface ChatTarget {
  roomId: string;
  sessionId: string | null;
  principal: ChatPrincipal;
  after?: string;
  /** When the room's live show began (ms), when one is live: where a new socket's greeting history starts. */
  showSince?: number;
}

const SESSION_PATH = /^\/ws\/live\/([0-9]{1,20})\/?$/;
const ROOM_ID = /^[0-9]{1,20}$/;
const AFTER = /^\d{1,16}-\d{1,16}$/;

/** True for the chat paths: `/ws/live/{session_id}` and seed 004's `/ws`. */
export function isChatPath(pathname: string): boolean {
  return pathname === '/ws' || pathname === '/ws/' || SESSION_PATH.test(pathname);
}

/**
 * Authentication of a chat socket at upgrade, before the handshake completes. The credential comes
 * as `Authorization: Bearer` or `?token=` (browsers cannot set headers on a WebSocket):
 * - a JWT (from /auth/login): that user, may post;
 * - a play token bound to a viewer (from /enter or /play-token with a bearer): that user, may post;
 * - an anonymous play token (the anonymous ticket): read-only, when ONAIR_CHAT_ANONYMOUS allows.
 * The room comes from the path's session, the play token, or `?room_id=` (with a JWT on `/ws`).
 */
export async function authenticateChat(deps: ChatAuthDeps, req: IncomingMessage, url: URL): Promise<ChatTarget> {
  const header = req.headers.authorization;
  const bearer = header ? /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(header)?.[1] : undefined;
  if (header && !bearer) throw new UnauthorizedError('malformed Authorization header', { code: 'invalid_token' });
  const token = bearer ?? url.searchParams.get('token') ?? undefined;
  if (!token) throw new UnauthorizedError('a token is required: ?token= (JWT, play token or anonymous ticket)', { code: 'token_required' });
  const afterParam = url.searchParams.get('after') ?? undefined;
  if (afterParam !== undefined && !AFTER.test(afterParam)) throw new ValidationError('after must be a message id', { code: 'invalid_resume_id' });

  let session: LiveSession | null = null;
  let roomId: string | undefined;
  const pathSession = SESSION_PATH.exec(url.pathname)?.[1];
  if (pathSession) {
    session = await deps.sessions.findById(pathSession);
    if (!session) throw new NotFoundError('no such live session', { code: 'session_not_found' });
    if (session.status === 'ended') throw new ConflictError('the live session has ended', { code: 'session_ended' });
    roomId = session.roomId;
  }

  let principal: ChatPrincipal;
  if (token.split('.').length === 3) {
    const user = await deps.verifyJwt(token);
    principal = { user: { id: user.id, name: user.username }, canPost: true };
    if (!roomId) {
      const param = url.searchParams.get('room_id');
      if (!param || !ROOM_ID.test(param)) throw new ValidationError('room_id is required with a JWT on /ws', { code: 'room_required' });
      await deps.requireRoom(param);
      roomId = param;
    }
  } else {
    const tokenRoom = playTokenRoom(token);
    if (!tokenRoom) throw new UnauthorizedError('invalid token', { code: 'invalid_token' });
    const check = verifyPlayToken(deps.playTokenKey, token, { room: roomId ?? tokenRoom, nowSec: Math.floor((deps.now ?? Date.now)() / 1000) });
    if (!check.ok) {
      if (check.reason === 'wrong_stream') throw new ForbiddenError('the token is for another room', { code: 'wrong_room' });
      throw new UnauthorizedError(check.reason === 'expired' ? 'token expired' : 'invalid token', { code: check.reason === 'expired' ? 'token_expired' : 'invalid_token' });
    }
    roomId = check.claims.room;
    if (check.claims.viewer) {
      const user = await deps.users.findById(check.claims.viewer);
      if (!user) throw new UnauthorizedError('invalid token', { code: 'invalid_token' });
      principal = { user: { id: user.id, name: user.username }, canPost: true };
    } else {
      if (!(await deps.anonymousAllowed(roomId))) throw new UnauthorizedError('log in to join the chat', { code: 'login_required' });
      principal = { user: null, canPost: false };
    }
  }
  if (principal.user) await deps.checkAccess(roomId, principal.user.id);
  if (!session) session = await deps.sessions.findActiveByRoom(roomId);
  return { roomId, sessionId: session?.id ?? null, principal, after: afterParam, showSince: session?.createdAt.getTime() };
}

/** The room a play token names (before its signature is checked). */
function playTokenRoom(token: string): string | undefined {
  if (token.length > 512 || !/^[A-Za-z0-9_-]+$/.test(token)) return undefined;
  const room = Buffer.from(token, 'base64url').toString('utf8').split('|')[0];
  return room && ROOM_ID.test(room) ? room : undefined;
}
