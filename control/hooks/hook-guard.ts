import { Counter, type Registry } from 'prom-client';
import { AddressMatcher } from '../../core/config/cidr.js';
import { SourceAddress } from '../../core/callbacks/source-address.js';
import { mediaHookSecret } from '../../core/callbacks/hook-secret.js';
import { safeEqual } from '../../core/tokens/compare.js';

export interface HookGuardOptions {
  /** config.hooks.secret: the `?secret=` external media servers put in the hook URL. */
  secret?: string;
  /** config.hooks.allow: source networks allowed to call the hooks. */
  allow: readonly string[];
  /** config.callbacks.mediaKey: onair's media service sends a secret derived from it. */
  mediaKey?: string;
  /** config.http.trustedProxies: peers whose X-Forwarded-For is believed. */
  trustedProxies: readonly string[];
  metrics?: Registry;
}

/**
 * `caller` 'onair-media' when the call carries the secret derived from the media key: onair's own
 * media service, which reports what happens next (publish started, viewers) as signed callbacks of
 * its own, so its hook calls are decisions only. Any other caller is an external server (SRS,
 * nginx-rtmp) whose hooks are also its only events.
 */
export type HookCheck = { ok: true; caller: 'onair-media' | 'external' } | { ok: false; status: 401 | 403; code: string; message: string };

/**
 * Who may call /hook/*. The hooks decide publishes and create recordings, so anonymous calls are
 * refused. The rules, in order:
 * - nothing configured (no secret, no allowlist, no media key): every call is refused, with a
 *   message naming the settings (a hook endpoint open to the world is never the default);
 * - hooks.allow set: the source (the peer, or the client a trusted proxy names) must be in it;
 * - hooks.secret set, or no allowlist: `?secret=` must match hooks.secret or media's derived secret.
 * So an allowlist alone, a secret alone, or both (both must pass) are all valid deployments.
 */
export class HookGuard {
  private readonly allow: AddressMatcher | null;
  private readonly sources: SourceAddress;
  private readonly secrets: string[];
  private readonly mediaSecret: string | undefined;
  private readonly refused: Counter<'code'>;

  constructor(private readonly o: HookGuardOptions) {
    this.allow = o.allow.length ? new AddressMatcher(o.allow) : null;
    this.sources = new SourceAddress(o.trustedProxies);
    this.mediaSecret = o.mediaKey ? mediaHookSecret(o.mediaKey) : undefined;
    this.secrets = [o.secret, this.mediaSecret].filter((s): s is string => Boolean(s));
    const name = 'onair_hooks_refused_total';
    this.refused = (o.metrics?.getSingleMetric(name) as Counter<'code'> | undefined) ?? new Counter({
      name, help: 'Media-server hook calls refused before any decision (source not allowed, missing or wrong secret)',
      labelNames: ['code'] as const, registers: o.metrics ? [o.metrics] : [],
    });
  }

  check(peer: string | undefined, forwardedFor: string | string[] | undefined, secret: unknown): HookCheck {
    if (!this.allow && this.secrets.length === 0) {
      return this.refuse(403, 'hooks_not_configured', 'hooks are disabled until ONAIR_HOOK_SECRET or ONAIR_HOOK_ALLOW is set');
    }
    if (this.allow && !this.allow.matches(this.sources.of(peer, forwardedFor))) {
      return this.refuse(403, 'source_not_allowed', 'source address not allowed');
    }
    const needSecret = Boolean(this.o.secret) || !this.allow;
    if (needSecret && !(typeof secret === 'string' && this.secrets.some((s) => safeEqual(secret, s)))) {
      return this.refuse(401, 'invalid_hook_secret', 'missing or wrong hook secret');
    }
    const fromMedia = this.mediaSecret !== undefined && typeof secret === 'string' && safeEqual(secret, this.mediaSecret);
    return { ok: true, caller: fromMedia ? 'onair-media' : 'external' };
  }

  private refuse(status: 401 | 403, code: string, message: string): HookCheck {
    this.refused.inc({ code });
    return { ok: false, status, code, message };
  }
}
