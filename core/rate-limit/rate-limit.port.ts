/**
 * The rate-limit port: named counters over a sliding-free fixed window, shared by every control
 * node when they share Redis (RedisRateLimits), or kept in this process (MemoryRateLimits).
 * The HTTP edge decides what to count (control/http/rate-limits.ts); this only counts.
 */
export interface RateDecision {
  /** False when this call went past the limit (or the key is blocked). */
  allowed: boolean;
  /** Points used in the current window (a blocked key reports more than the limit). */
  consumed: number;
  /** Until the window ends or the block lifts; 0 when nothing is counted. */
  retryAfterMs: number;
}

export interface RateCounterOptions {
  /** Points per window. */
  points: number;
  durationMs: number;
}

export interface RateCounter {
  /** Counts `points` (default 1) against `key`. */
  consume(key: string, points?: number): Promise<RateDecision>;
  /** The key's state without counting. */
  peek(key: string): Promise<RateDecision>;
  /** Refuses `key` for `ms` (rounded up to whole seconds). */
  block(key: string, ms: number): Promise<void>;
  /** Forgets `key` (a successful login clears its failures). */
  reset(key: string): Promise<void>;
}

export interface RateLimits {
  readonly kind: 'memory' | 'redis';
  /** A counter; `name` separates its keys from other counters'. */
  counter(name: string, options: RateCounterOptions): RateCounter;
  close(): Promise<void>;
}
