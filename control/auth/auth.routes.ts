import { Router, type RequestHandler } from 'express';
import { UnauthorizedError } from '../../core/errors.js';
import { noLimit, type LoginThrottle } from '../http/rate-limits.js';
import { asyncRoute } from '../http/async-route.js';
import { parseInput } from '../http/validate.js';
import { requireUser } from '../http/auth.middleware.js';
import type { AuthService } from './auth.service.js';
import { loginBody, registerBody } from './auth.schema.js';

/** Rate limits of these routes (control/http/rate-limits.ts); none when omitted. */
export interface AuthRouteLimits {
  login: LoginThrottle;
  register: RequestHandler;
}

const unlimited: AuthRouteLimits = {
  login: { admit: async () => {}, failed: async () => {}, succeeded: async () => {} },
  register: noLimit,
};

export function authRoutes(auth: AuthService, limits: AuthRouteLimits = unlimited): Router {
  const r = Router();
  r.post('/auth/register', limits.register, asyncRoute(async (req, res) => {
    const body = parseInput(registerBody, req.body, 'body');
    const user = await auth.register(body);
    res.status(201).json({ id: user.id, username: user.username, role: user.role });
  }));
  r.post('/auth/login', asyncRoute(async (req, res) => {
    const body = parseInput(loginBody, req.body, 'body');
    // The lock and the per-address limit are checked before the password is hashed, and a failure
    // is counted before the 401 goes out, so a client cannot outrun its own lock.
    // The lock is the account's: MariaDB's collation finds `opérator` or `ＯＰＥＲＡＴＯＲ` for `operator`,
    // so the name as typed would give each spelling a lock of its own.
    const account = await auth.accountName(body.username);
    await limits.login.admit(req.ip ?? '', account);
    let login: Awaited<ReturnType<AuthService['login']>>;
    try {
      login = await auth.login(body.username, body.password);
    } catch (err) {
      if (err instanceof UnauthorizedError) await limits.login.failed(account);
      throw err;
    }
    await limits.login.succeeded(account);
    const { token, expiresAt, user } = login;
    res.json({ token, token_type: 'Bearer', expires_at: new Date(expiresAt).toISOString(), user: { id: user.id, username: user.username, role: user.role } });
  }));
  r.get('/auth/me', requireUser, (req, res) => {
    res.json({ id: req.user!.id, username: req.user!.username, role: req.user!.role });
  });
  return r;
}
