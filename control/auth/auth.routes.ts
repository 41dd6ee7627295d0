import { Router } from 'express';
import { asyncRoute } from '../http/async-route.js';
import { parseInput } from '../http/validate.js';
import { requireUser } from '../http/auth.middleware.js';
import type { AuthService } from './auth.service.js';
import { loginBody, registerBody } from './auth.schema.js';

export function authRoutes(auth: AuthService): Router {
  const r = Router();
  r.post('/auth/register', asyncRoute(async (req, res) => {
    const body = parseInput(registerBody, req.body, 'body');
    const user = await auth.register(body);
    res.status(201).json({ id: user.id, username: user.username, role: user.role });
  }));
  r.post('/auth/login', asyncRoute(async (req, res) => {
    const body = parseInput(loginBody, req.body, 'body');
    const { token, expiresAt, user } = await auth.login(body.username, body.password);
    res.json({ token, token_type: 'Bearer', expires_at: new Date(expiresAt).toISOString(), user: { id: user.id, username: user.username, role: user.role } });
  }));
  r.get('/auth/me', requireUser, (req, res) => {
    res.json({ id: req.user!.id, username: req.user!.username, role: req.user!.role });
  });
  return r;
}
