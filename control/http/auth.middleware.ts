import type { RequestHandler } from 'express';
import { ForbiddenError, UnauthorizedError } from '../../core/errors.js';
import type { AuthUser, Role } from './caller.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Set by authenticate() when a valid bearer token came with the request. */
      user?: AuthUser;
    }
  }
}

export interface TokenVerifier {
  verifyToken(token: string): AuthUser;
  /**
   * The user's role now (null: no such user). A token's role claim is what the user was at login and
   * lives for ONAIR_JWT_TTL; when given, this is the role the request gets, so a demotion holds
   * against the tokens issued before it. `token` is the verified bearer token: null also when it
   * was issued before the user's password changed.
   */
  currentRole?(userId: string, token: string): Promise<Role | null>;
}

/**
 * Reads `Authorization: Bearer <jwt>`. No header: anonymous (req.user unset). A header with a bad
 * or expired token, or one of a user who is gone: 401, even on routes that allow anonymous callers, so
 * a client learns its token died. The role is the user's current one when the verifier can tell it.
 */
export function authenticate(verifier: TokenVerifier): RequestHandler {
  return (req, _res, next) => {
    const header = req.headers.authorization;
    if (header === undefined) return next();
    const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(header);
    if (!match) return next(new UnauthorizedError('malformed Authorization header', { code: 'invalid_token' }));
    let claims: AuthUser;
    try {
      claims = verifier.verifyToken(match[1]!);
    } catch (err) {
      return next(err);
    }
    if (!verifier.currentRole) {
      req.user = claims;
      return next();
    }
    verifier.currentRole(claims.id, match[1]!).then((role) => {
      if (role === null) return next(new UnauthorizedError('invalid token', { code: 'invalid_token' }));
      req.user = role === claims.role ? claims : { ...claims, role };
      next();
    }, next);
  };
}

export const requireUser: RequestHandler = (req, _res, next) => {
  next(req.user ? undefined : new UnauthorizedError());
};

/** Allows only the listed roles (operators are not implicitly allowed: list them). */
export function requireRole(...roles: Role[]): RequestHandler {
  return (req, _res, next) => {
    if (!req.user) return next(new UnauthorizedError());
    if (!roles.includes(req.user.role)) return next(new ForbiddenError(`requires role ${roles.join(' or ')}`, { code: 'wrong_role' }));
    next();
  };
}
