import type { OnairConfig } from '../../core/config/schema.js';
import { RateLimitedError } from '../../core/errors.js';
import type { RateCounter, RateLimits } from '../../core/rate-limit/rate-limit.port.js';

/**
 * ONAIR_RATE_LIKES: the likes one user may give one room per window, over the API and the chat
 * socket together. Likes raise the room in discovery's hot ranking (likes / 100), and a client may
 * send 100 a request: without a budget one script put any room on top of the home page.
 */
export class LikeBudget {
  private readonly counter: RateCounter | null;

  constructor(limits: RateLimits, config: OnairConfig['rateLimit']) {
    this.counter = config.enabled && config.likes ? limits.counter('likes', { points: config.likes.points, durationMs: config.likes.durationMs }) : null;
  }

  /** Counts `count` likes of the user in the room; throws RateLimitedError (`too_many_likes`) past the budget. */
  async take(roomId: string, userId: string, count: number): Promise<void> {
    if (!this.counter) return;
    const d = await this.counter.consume(`${roomId}:${userId}`, count);
    if (!d.allowed) throw new RateLimitedError('too many likes in this room; retry later', d.retryAfterMs, { code: 'too_many_likes' });
  }
}
