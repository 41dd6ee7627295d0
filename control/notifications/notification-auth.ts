import type { IncomingMessage } from 'node:http';
import { ForbiddenError, NotFoundError, UnauthorizedError } from '../../core/errors.js';

const PATH = /^\/ws\/notification(?:\/([^/]*))?\/?$/;
const USER_ID = /^[0-9]{1,20}$/;

/** True for `/ws/notification` and seed 000's `/ws/notification/{uid}` (and anything below /ws/notification/, refused with a reason). */
export function isNotificationPath(pathname: string): boolean {
  return pathname === '/ws/notification' || pathname.startsWith('/ws/notification/');
}

export interface NotificationAuthDeps {
  verifyJwt(token: string): { id: string };
  users: { findById(id: string): Promise<{ id: string } | null> };
}

/**
 * Authenticates a notification socket at upgrade (before the handshake): a JWT from /auth/login as
 * `?token=` or `Authorization: Bearer`; on `/ws/notification/{uid}` the uid must be the token's
 * user (403 wrong_user). Returns the user id.
 */
export async function authenticateNotification(deps: NotificationAuthDeps, req: IncomingMessage, url: URL): Promise<string> {
  const match = PATH.exec(url.pathname);
  if (!match) throw new NotFoundError('no such notification path: /ws/notification or /ws/notification/{uid}', { code: 'not_found' });
  const header = req.headers.authorization;
  const bearer = header ? /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(header)?.[1] : undefined;
  if (header && !bearer) throw new UnauthorizedError('malformed Authorization header', { code: 'invalid_token' });
  const token = bearer ?? url.searchParams.get('token') ?? undefined;
  if (!token) throw new UnauthorizedError('a token is required: ?token=JWT', { code: 'token_required' });
  const claimed = deps.verifyJwt(token);
  const user = await deps.users.findById(String(claimed.id));
  if (!user) throw new UnauthorizedError('invalid token', { code: 'invalid_token' });
  const uid = match[1];
  if (uid !== undefined && uid !== '' && (!USER_ID.test(uid) || uid !== String(user.id))) {
    throw new ForbiddenError("the path's user is not the token's user", { code: 'wrong_user' });
  }
  return String(user.id);
}
