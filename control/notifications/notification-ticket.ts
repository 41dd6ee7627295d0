import { createHash, randomBytes } from 'node:crypto';
import type { Cache } from '../../core/cache/cache.port.js';
import { cacheKeys } from '../../core/cache/keys.js';

/**
 * Notification socket tickets: what a browser puts in the socket's URL instead of its JWT (URLs
 * land in proxy logs and the browser's console). `POST /notifications/ws-ticket` issues one to the
 * logged-in user; it opens one notification socket of that user, once, within the TTL. Stored in
 * the cache under the ticket's SHA-256 (never the ticket itself), so every control node can take
 * it and only the first DEL wins. The key names the purpose: a ticket is nothing anywhere else
 * (chat, play), and a play token or entry token is nothing here.
 */
const TICKET = /^nt_[A-Za-z0-9_-]{32}$/;

const keyOf = (ticket: string) => cacheKeys.notifyTicket(createHash('sha256').update(ticket).digest('hex'));

export type TicketCheck = { ok: true; userId: string } | { ok: false; reason: 'invalid_ticket' | 'ticket_expired' };

export class NotificationTickets {
  constructor(private readonly deps: { cache: Cache; ttlMs: number; now?: () => number }) {}

  get ttlMs(): number {
    return this.deps.ttlMs;
  }

  async issue(userId: string): Promise<{ ticket: string; expiresAt: number }> {
    const ticket = `nt_${randomBytes(24).toString('base64url')}`;
    const expiresAt = (this.deps.now ?? Date.now)() + this.deps.ttlMs;
    // Kept a little past its expiry so a late use is told `ticket_expired`, not `invalid_ticket`.
    await this.deps.cache.set(keyOf(ticket), `${userId}|${expiresAt}`, this.deps.ttlMs + 60_000);
    return { ticket, expiresAt };
  }

  /** Takes the ticket (single use: a second take, here or on another node, fails). */
  async take(ticket: string): Promise<TicketCheck> {
    if (!TICKET.test(ticket)) return { ok: false, reason: 'invalid_ticket' };
    const key = keyOf(ticket);
    const value = await this.deps.cache.get(key);
    if (!value) return { ok: false, reason: 'invalid_ticket' };
    if ((await this.deps.cache.del(key)) !== 1) return { ok: false, reason: 'invalid_ticket' };
    const [userId, exp] = value.split('|');
    if (!userId || !(Number(exp) > (this.deps.now ?? Date.now)())) return { ok: false, reason: 'ticket_expired' };
    return { ok: true, userId };
  }
}
