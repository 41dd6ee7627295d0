import type { OnairConfig } from '../../core/config/schema.js';
import { RateLimitedError } from '../../core/errors.js';
import type { RateCounter, RateLimits } from '../../core/rate-limit/rate-limit.port.js';

/**
 * ONAIR_RATE_CHAT_CONNECTS: the chat sockets one viewer (a user, or an anonymous client address) may
 * open in one room per window, over every control node. Each open costs the node a presence join, a
 * `replaced` announcement, the room's rules and a catch-up that replays up to the whole kept history
 * (`after=0-0`: up to 1,000 messages); the `resume` frame is spaced per socket, so without this a
 * client reconnecting in a loop made the node encode a history per connect. The web client backs off
 * from 1 s to 15 s between reconnects, far under the default.
 */
export class ChatConnectBudget {
  private readonly counter: RateCounter | null;

  constructor(limits: RateLimits, config: OnairConfig['rateLimit']) {
    const rate = config.chatConnects;
    this.counter = config.enabled && rate ? limits.counter('chat_connects', { points: rate.points, durationMs: rate.durationMs }) : null;
  }

  /**
   * Counts one socket opened in the room by `viewer` (`u:{id}` for a user, `a:{address key}` for an
   * anonymous client); throws RateLimitedError (`too_many_connects`, 429 at the upgrade) past the budget.
   */
  async take(roomId: string, viewer: string): Promise<void> {
    if (!this.counter) return;
    const d = await this.counter.consume(`${roomId}:${viewer}`, 1);
    if (!d.allowed) throw new RateLimitedError('too many chat connections to this room; retry later', d.retryAfterMs, { code: 'too_many_connects' });
  }
}
