import { createHmac } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { safeEqual } from '../../core/tokens/compare.js';
import type { OnairConfig } from '../../core/config/schema.js';
import { ConflictError, ForbiddenError, UnauthorizedError, ValidationError } from '../../core/errors.js';
import type { Logger } from '../../core/logging/logger.js';
import { hashPassword, verifyPassword } from './password.js';
import { assertAcceptablePassword } from './password-policy.js';
import type { UserStore } from './user.store.js';
import { ROLES, type AuthUser, type Role, type User } from './user.js';

/** A real hash of a random password: login of an unknown user costs the same scrypt as a known one. */
const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$' + 'A'.repeat(86);

/** Registration, login and bearer tokens (JWT HS256 with config.secret). */
export class AuthService {
  constructor(
    private readonly users: UserStore,
    private readonly config: Pick<OnairConfig, 'secret' | 'auth'>,
    private readonly log?: Logger,
  ) {}

  private get secret(): string {
    if (!this.config.secret) throw new TypeError('config.secret is not set');
    return this.config.secret;
  }

  /** Public registration: viewer or anchor only. Operators come from ensureOperator (env or CLI). */
  async register(input: { username: string; password: string; role: Role }): Promise<User> {
    if (input.role === 'operator') throw new ForbiddenError('operators cannot register through the API', { code: 'role_not_allowed' });
    if (!(ROLES as readonly string[]).includes(input.role)) throw new ValidationError('unknown role');
    await assertAcceptablePassword(input.password, input.username, { minLength: this.config.auth.passwordMinLength });
    // Registration is rate limited per address; the check reads usernames only.
    if (await this.users.nameTakenIgnoringCase(input.username)) throw new ConflictError('username is taken', { code: 'username_taken' });
    const passwordHash = await hashPassword(input.password);
    const user = await this.users.create({ username: input.username, passwordHash, role: input.role });
    this.log?.info({ userId: user.id, role: user.role }, 'user registered');
    return user;
  }

  /**
   * The name of the account a typed username finds (the database's collation may find it under
   * another case, accents or width), or the typed name when it finds none: what a login lock is keyed by.
   */
  async accountName(typed: string): Promise<string> {
    return (await this.users.findByUsername(typed))?.username ?? typed;
  }

  async login(username: string, password: string): Promise<{ token: string; expiresAt: number; user: User }> {
    const found = await this.users.findByUsername(username);
    const ok = await verifyPassword(password, found?.passwordHash ?? DUMMY_HASH);
    if (!found || !ok) throw new UnauthorizedError('wrong username or password', { code: 'bad_credentials' });
    const { passwordHash, ...user } = found;
    return { ...this.issueToken(user, passwordHash), user };
  }

  /**
   * A token carries `pwd`, a keyed digest of the password hash it was issued under: once the
   * password changes (ONAIR_ADMIN_PASSWORD, the CLI), the tokens issued before are refused. It is an
   * HMAC under config.secret, so it tells a holder of the token nothing about the password.
   */
  private passwordStamp(passwordHash: string): string {
    return createHmac('sha256', this.secret).update('onair:token-password:').update(passwordHash).digest('base64url').slice(0, 22);
  }

  issueToken(user: AuthUser, passwordHash?: string): { token: string; expiresAt: number } {
    const ttlSec = Math.max(1, Math.floor(this.config.auth.jwtTtl / 1000));
    const claims = { username: user.username, role: user.role, typ: 'access', ...(passwordHash ? { pwd: this.passwordStamp(passwordHash) } : {}) };
    const token = jwt.sign(claims, this.secret, {
      algorithm: 'HS256',
      subject: user.id,
      expiresIn: ttlSec,
    });
    return { token, expiresAt: Date.now() + ttlSec * 1000 };
  }

  /** Verifies a bearer token (signature, HS256 only, expiry). Throws UnauthorizedError. */
  verifyToken(token: string): AuthUser {
    if (token.length > 4096) throw new UnauthorizedError('invalid token', { code: 'invalid_token' });
    let payload: jwt.JwtPayload | string;
    try {
      payload = jwt.verify(token, this.secret, { algorithms: ['HS256'] });
    } catch (err) {
      const expired = err instanceof jwt.TokenExpiredError;
      throw new UnauthorizedError(expired ? 'token expired' : 'invalid token', { code: expired ? 'token_expired' : 'invalid_token' });
    }
    if (typeof payload === 'string' || payload.typ !== 'access' || typeof payload.sub !== 'string'
      || typeof payload.username !== 'string' || !(ROLES as readonly string[]).includes(payload.role as string)) {
      throw new UnauthorizedError('invalid token', { code: 'invalid_token' });
    }
    return { id: payload.sub, username: payload.username, role: payload.role as Role };
  }

  /**
   * verifyToken, then the account as it is now (currentRole): for credentials checked outside the
   * HTTP middleware (the chat and notification sockets), so a token of a deleted user or one issued
   * under a changed password is refused there too. The role is the current one.
   */
  async verifyCurrentToken(token: string): Promise<AuthUser> {
    const claims = this.verifyToken(token);
    const role = await this.currentRole(claims.id, token);
    if (role === null) throw new UnauthorizedError('invalid token', { code: 'invalid_token' });
    return role === claims.role ? claims : { ...claims, role };
  }

  /**
   * The user's role now; null when there is no such user, or when `token` (already verified) was
   * issued under a password the user no longer has. The role claim of a token is only what it was at login.
   */
  async currentRole(userId: string, token?: string): Promise<Role | null> {
    const account = await this.users.accountOf(userId);
    if (!account) return null;
    const stamp = token ? (jwt.decode(token, { json: true }) as { pwd?: unknown } | null)?.pwd : undefined;
    // Tokens issued before the stamp existed carry none: they live out their TTL.
    if (stamp !== undefined && !(typeof stamp === 'string' && safeEqual(stamp, this.passwordStamp(account.passwordHash)))) return null;
    return account.role;
  }

  /**
   * Creates the operator, or makes an existing user an operator with this password. Idempotent:
   * running it at every start (ONAIR_ADMIN_USER/ONAIR_ADMIN_PASSWORD) is safe.
   */
  async ensureOperator(username: string, password: string): Promise<{ user: User; created: boolean }> {
    await assertAcceptablePassword(password, username, { minLength: this.config.auth.passwordMinLength });
    const passwordHash = await hashPassword(password);
    const existing = await this.users.findByUsername(username);
    if (existing) {
      if (existing.role !== 'operator') await this.users.setRole(existing.id, 'operator');
      if (!(await verifyPassword(password, existing.passwordHash))) await this.users.setPassword(existing.id, passwordHash);
      const { passwordHash: _omit, ...user } = existing;
      return { user: { ...user, role: 'operator' }, created: false };
    }
    const user = await this.users.create({ username, passwordHash, role: 'operator' });
    this.log?.info({ userId: user.id }, 'operator created');
    return { user, created: true };
  }
}
