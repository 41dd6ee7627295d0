import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, RequestHandler } from 'express';
import { Counter, type Registry } from 'prom-client';
import type { OnairConfig } from '../../core/config/schema.js';
import type { Rate } from '../../core/config/rate.js';
import { RateLimitedError } from '../../core/errors.js';
import type { Logger } from '../../core/logging/logger.js';
import type { RateCounter, RateLimits } from '../../core/rate-limit/rate-limit.port.js';
import { SourceAddress } from '../../core/callbacks/source-address.js';
import { addressKey, clientAddress } from '../../core/http/client-address.js';

/**
 * What the HTTP edge rate-limits, and by which key (README "Rate limits"). The counters live in
 * RateLimits: Redis when configured, so every control node shares them, this process otherwise.
 *
 * - login: attempts per client address (each costs a password hash), and per username the
 *   consecutive failures: after `loginFreeFailures` the username is locked, 1 s, 2 s, 4 s ... up
 *   to `loginLockMax`, for everyone, with the right password too; a success clears it.
 * - register, play tokens: per client address.
 * - callback and hook receivers: servers call these, and a media server legitimately bursts (one
 *   on_play per viewer, thousands a minute from one address), so volume is never limited. What is
 *   counted is *refused* requests per source address (400 malformed, 401 bad signature or secret,
 *   413 too large): past `receiverRefusals` the address gets 429 for the rest of the window. A
 *   viewer's refused play (403) is the viewer's failure, never counted against the media server.
 */
export interface EdgeRateLimits {
  login: LoginThrottle;
  /** Express middleware for POST /auth/register. */
  register: RequestHandler;
  /** Express middleware for GET /rooms/:id/play-token. */
  playToken: RequestHandler;
  /** Express middleware for POST /replays/:id/clips (after requireUser: per user). */
  clips: RequestHandler;
  /** Express middleware for POST /rooms/:id/reports (after requireUser: per user): each report is a row in the operators' queue. */
  reports: RequestHandler;
  /** Express middleware for POST /rooms/:id/share (after requireUser: per user): each share counts on the room's show. */
  shares: RequestHandler;
  receivers: ReceiverGuard;
}

export interface LoginThrottle {
  /** Before checking the password: throws RateLimitedError when the username is locked or the address is over its limit. */
  admit(address: string, username: string): Promise<void>;
  failed(username: string): Promise<void>;
  succeeded(username: string): Promise<void>;
}

/** A limit that lets every request through: rate limits off, or a route built without its limit (tests). */
export const noLimit: RequestHandler = (_req, _res, next) => next();

type LimitName = 'login_address' | 'login_locked' | 'register' | 'play_token' | 'clips' | 'reports' | 'shares' | 'receiver_refusals';

/** The failures of a username are remembered this long after the last one (consecutive = since the last success). */
const FAILURE_MEMORY_MS = 24 * 3600_000;
/** No counter holds more keys than this in the receivers' local block list (oldest dropped). */
const MAX_LOCAL_BLOCKS = 10_000;

const userKey = (username: string) => username.trim().toLowerCase().slice(0, 64);

export function createEdgeRateLimits(deps: {
  config: OnairConfig['rateLimit'];
  limits: RateLimits;
  /** ONAIR_TRUSTED_PROXIES: whose X-Forwarded-For names the client. */
  trustedProxies: readonly string[];
  metrics: Registry;
  log: Logger;
  /** Path prefix of the API (`/api/v1`). */
  prefix?: string;
}): EdgeRateLimits {
  const { config, limits, log } = deps;
  const limited = new Counter({
    name: 'onair_rate_limited_total',
    help: 'Requests answered 429 by a rate limit, by limit',
    labelNames: ['limit'] as const,
    registers: [deps.metrics],
  });
  const counter = (name: string, rate: Rate | null): RateCounter | null =>
    config.enabled && rate ? limits.counter(name, { points: rate.points, durationMs: rate.durationMs }) : null;
  const refuse = (limit: LimitName, code: string, message: string, retryAfterMs: number): never => {
    limited.inc({ limit });
    throw new RateLimitedError(message, retryAfterMs, { code });
  };

  /** Middleware counting each request under keyOf(req); past the rate, 429 with `message`. */
  const limiter = (limit: LimitName, rate: Rate | null, code: string, message: string, keyOf: (req: Request) => string): RequestHandler => {
    const c = counter(limit, rate);
    if (!c) return noLimit;
    return (req, _res, next) => {
      c.consume(keyOf(req)).then((d) => {
        if (!d.allowed) refuse(limit, code, message, d.retryAfterMs);
        next();
      }).catch(next);
    };
  };
  const perAddress = (limit: LimitName, rate: Rate | null, code: string, what: string) =>
    limiter(limit, rate, code, `too many ${what} from this address; retry later`, (req) => addressKey(req.ip));
  /** Per user (routes behind requireUser); an anonymous caller by address. */
  const perUser = (limit: LimitName, rate: Rate | null, code: string, what: string) =>
    limiter(limit, rate, code, `too many ${what}; retry later`, (req) => (req.user ? `u:${req.user.id}` : addressKey(req.ip)));

  return {
    login: loginThrottle(config, counter('login_address', config.login), config.enabled ? limits : null, refuse),
    register: perAddress('register', config.register, 'too_many_registrations', 'registrations'),
    playToken: perAddress('play_token', config.playToken, 'too_many_play_tokens', 'play tokens'),
    clips: perUser('clips', config.clips, 'too_many_clips', 'clip requests'),
    reports: perUser('reports', config.reports, 'too_many_reports', 'reports'),
    shares: perUser('shares', config.shares, 'too_many_shares', 'shares'),
    receivers: new ReceiverGuard(counter('receiver_refusals', config.receiverRefusals), new SourceAddress(deps.trustedProxies), deps.prefix ?? '/api/v1', () => {
      limited.inc({ limit: 'receiver_refusals' });
    }, log),
  };
}

function loginThrottle(
  config: OnairConfig['rateLimit'],
  perAddress: RateCounter | null,
  limits: RateLimits | null,
  refuse: (limit: LimitName, code: string, message: string, retryAfterMs: number) => never,
): LoginThrottle {
  if (!limits) return { admit: async () => {}, failed: async () => {}, succeeded: async () => {} };
  const failures = limits.counter('login_failures', { points: 1_000_000_000, durationMs: FAILURE_MEMORY_MS });
  const locks = limits.counter('login_lock', { points: 1, durationMs: 1000 });
  return {
    async admit(address, username) {
      const lock = await locks.peek(userKey(username));
      if (!lock.allowed) refuse('login_locked', 'login_locked', 'too many failed logins for this account; retry later', lock.retryAfterMs);
      if (perAddress) {
        const d = await perAddress.consume(addressKey(address));
        if (!d.allowed) refuse('login_address', 'too_many_logins', 'too many logins from this address; retry later', d.retryAfterMs);
      }
    },
    async failed(username) {
      const key = userKey(username);
      const { consumed } = await failures.consume(key);
      if (consumed < config.loginFreeFailures) return;
      // Progressive: the first lock lasts loginLock, each further failure doubles it, up to loginLockMax.
      const exponent = Math.min(consumed - config.loginFreeFailures, 30);
      await locks.block(key, Math.min(config.loginLock * 2 ** exponent, config.loginLockMax));
    },
    async succeeded(username) {
      await failures.reset(userKey(username));
    },
  };
}

/** Statuses that mean the sender itself was refused (not its end client): these count toward a block. */
const SOURCE_REFUSALS = new Set([400, 401, 413, 415]);

/**
 * In front of the callback receiver (its node:http fast path too) and the hook endpoints. Counting
 * is shared (RateLimits); the block itself is kept in this process, so a blocked source costs one
 * Map lookup per request and no Redis round trip. Another node blocks the same source at its first
 * refusal from it, since the shared count is already past the limit.
 */
export class ReceiverGuard {
  private readonly blocked = new Map<string, number>();
  private readonly callbackPath: string;
  private readonly mediaPath: string;
  private readonly hookPrefix: string;

  constructor(
    private readonly refusals: RateCounter | null,
    private readonly sources: SourceAddress,
    prefix: string,
    private readonly onLimited: () => void,
    private readonly log: Logger,
  ) {
    this.callbackPath = `${prefix}/callback`;
    this.mediaPath = `${prefix}/callback/media`;
    this.hookPrefix = `${prefix}/hook/`;
  }

  private isReceiver(url: string | undefined): boolean {
    const path = url?.split('?', 1)[0] ?? '';
    return path === this.callbackPath || path === this.mediaPath || path.startsWith(this.hookPrefix);
  }

  /** Answers 429 and returns true when the request's source is blocked; otherwise watches its answer and returns false. */
  intercept(req: IncomingMessage, res: ServerResponse): boolean {
    if (!this.refusals || !this.isReceiver(req.url)) return false;
    const address = clientAddress(req, this.sources);
    const until = this.blocked.get(address);
    if (until !== undefined) {
      const left = until - Date.now();
      if (left > 0) {
        this.onLimited();
        const body = JSON.stringify({ code: 429, error: { code: 'too_many_refusals', message: 'too many refused requests from this address; retry later' } });
        res.writeHead(429, { 'content-type': 'application/json; charset=utf-8', 'retry-after': String(Math.ceil(left / 1000)), connection: 'close' });
        res.end(body);
        req.resume();
        return true;
      }
      this.blocked.delete(address);
    }
    res.once('finish', () => {
      if (SOURCE_REFUSALS.has(res.statusCode)) this.refused(address);
    });
    return false;
  }

  private refused(address: string): void {
    this.refusals!.consume(address).then((d) => {
      if (d.allowed) return;
      if (this.blocked.size >= MAX_LOCAL_BLOCKS) this.blocked.delete(this.blocked.keys().next().value!);
      this.blocked.set(address, Date.now() + d.retryAfterMs);
      this.log.warn({ address, refusals: d.consumed, retryAfterS: Math.ceil(d.retryAfterMs / 1000) }, 'receiver source blocked after repeated refusals');
    }).catch((err: unknown) => this.log.warn({ err }, 'counting a refused receiver request failed'));
  }
}
