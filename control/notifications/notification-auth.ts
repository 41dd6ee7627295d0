import type { IncomingMessage } from 'node:http';
import { ForbiddenError, NotFoundError, UnauthorizedError } from '../../core/errors.js';
import type { NotificationTickets } from './notification-ticket.js';

const PATH = /^\/ws\/notification(?:\/([^/]*))?\/?$/;
const USER_ID = /^[0-9]{1,20}$/;

/** True for `/ws/notification` and seed 000's `/ws/notification/{uid}` (and anything below /ws/notification/, refused with a reason). */
export function isNotificationPath(pathname: string): boolean {
  return pathname === '/ws/notification' || pathname.startsWith('/ws/notification/');
}

export interface NotificationAuthDeps {
  /** A JWT's user as the account is now (refused once the user is gone or changed password). */
  verifyJwt(token: string): { id: string } | Promise<{ id: string }>;
  users: { findById(id: string): Promise<{ id: string } | null> };
  tickets: Pick<NotificationTickets, 'take'>;
}

/**
 * Authenticates a notification socket at upgrade (before the handshake): a ticket from
 * `POST /notifications/ws-ticket` as `?ticket=` (browsers: single use, short-lived), or a JWT from
 * /auth/login as `Authorization: Bearer` (other clients). A credential in `?token=` is refused
 * (401 `token_in_url`): a long-lived JWT in a URL ends up in proxy logs and consoles. On
 * `/ws/notification/{uid}` the uid must be the credential's user (403 wrong_user). Returns the user id.
 */
export async function authenticateNotification(deps: NotificationAuthDeps, req: IncomingMessage, url: URL): Promise<string> {
  const match = PATH.exec(url.pathname);
  if (!match) throw new NotFoundError('no such notification path: /ws/notification or /ws/notification/{uid}', { code: 'not_found' });
  const header = req.headers.authorization;
  const bearer = header ? /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(header)?.[1] : undefined;
  if (header && !bearer) throw new UnauthorizedError('malformed Authorization header', { code: 'invalid_token' });
  if (url.searchParams.has('token')) {
    throw new UnauthorizedError('no credential in ?token=: connect with ?ticket= from POST /api/v1/notifications/ws-ticket, or Authorization: Bearer', { code: 'token_in_url' });
  }
  const ticket = url.searchParams.get('ticket');
  let userId: string;
  if (bearer) {
    userId = String((await deps.verifyJwt(bearer)).id);
  } else if (ticket !== null) {
    const check = await deps.tickets.take(ticket);
    if (!check.ok) throw new UnauthorizedError(check.reason === 'ticket_expired' ? 'ticket expired' : 'invalid or used ticket', { code: check.reason });
    userId = check.userId;
  } else {
    throw new UnauthorizedError('a ticket is required: ?ticket= from POST /api/v1/notifications/ws-ticket (or Authorization: Bearer)', { code: 'token_required' });
  }
  const user = await deps.users.findById(userId);
  if (!user) throw new UnauthorizedError('invalid token', { code: 'invalid_token' });
  const uid = match[1];
  if (uid !== undefined && uid !== '' && (!USER_ID.test(uid) || uid !== String(user.id))) {
    throw new ForbiddenError("the path's user is not the token's user", { code: 'wrong_user' });
  }
  return String(user.id);
}
