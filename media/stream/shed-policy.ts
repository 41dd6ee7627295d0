/**
 * Shedding past the ceiling (issue 15, point 2), pure: the engine reads its overload state
 * (OverloadGuard) on a timer, this decides how many viewers to close.
 *
 * Refusing new viewers keeps the engine from collapsing only when the audience it has fits the
 * core. When it does not (viewers admitted just before the lag built up, the publisher raised its
 * bitrate), every viewer gets its data later and later until the slow-viewer policy closes them all.
 * So when the engine stays overloaded for SUSTAIN_MS despite the refusals, it closes the most recently
 * admitted viewers, newest first, at most SHARE of the audience (at least one, at most MAX_PER_TICK)
 * per decision, every INTERVAL_MS, until the guard reads healthy again: the viewers who joined last
 * lose least, and the rest stay healthy. A spell is logged once when it starts and once when it ends
 * (never once per viewer: thousands of lines would add to the overload).
 *
 * No knob: the spell and the pace are fixed here. The pause between decisions lets the smoothed lag
 * (about the last four flush ticks) react to the viewers already shed before more go.
 *
 * A join ramp is not an audience that does not fit. Hundreds of viewers a second, each first written a
 * GOP burst, and the refused ones' connects keep the event loop saturated for as long as they come (the
 * quiet ladder of 2026-11-28: 248 of 1,927 admitted HTTP-FLV viewers shed at 3,200 while the kept ones
 * stayed 98.8 % healthy and the core averaged 72 %). Shedding the viewers admitted moments before does
 * not relieve a ramp (the load is the joins, which the guard already refuses); it only turns admitted
 * viewers into lost ones. So a spell starts only once joins (admitted or refused) have not come at a
 * ramp's rate (RAMP_JOINS_PER_S, JoinRate) for JOIN_QUIET_MS while the engine stayed overloaded: the ramp
 * is over and the engine is still behind, so the audience it has is what does not fit. A trickle of joins
 * (a large audience's churn) is no ramp and holds nothing off. A flood of joins must not hold shedding off forever (an engine
 * behind for real under a stream of refused connects would collapse): past RAMP_MAX_MS of overload the
 * spell starts whatever the joins. Once a spell runs, joins do not pause it.
 */

/** Overload must last this long (despite the refusals) before anyone is shed: a GC pause or a burst does not shed. */
export const SUSTAIN_MS = 2000;
/** How often the engine decides while overloaded (and the pause after each batch). */
export const INTERVAL_MS = 500;
/** Share of the current audience shed per decision: 2 % every half second, 20 % in 5 s. */
export const SHARE = 0.02;
/** At most this many viewers per decision (bounds the work of one decision). */
export const MAX_PER_TICK = 200;
/** Joins at a ramp's rate this recent hold a spell off: the overload may be the ramp's, not the audience's. */
export const JOIN_QUIET_MS = 2000;
/** Overload lasting this long starts a spell even while joins keep coming (bounds the hold: no collapse under a join flood). */
export const RAMP_MAX_MS = 8000;
/** Join attempts a second (admitted or refused, smoothed over about a second) from which they are a ramp. */
export const RAMP_JOINS_PER_S = 20;
/** Time constant (ms) of the smoothed join rate. */
export const JOIN_RATE_WINDOW_MS = 1000;

/**
 * The rate of join attempts (admitted or refused), smoothed exponentially over JOIN_RATE_WINDOW_MS, and
 * the last time it was at a ramp's (RAMP_JOINS_PER_S): what ShedPolicy.decide takes as `lastRampAtMs`.
 */
export class JoinRate {
  private rate = 0;
  private at = -Infinity;
  /** When the joins last came at a ramp's rate (-Infinity: never). */
  lastRampAt = -Infinity;

  /** A viewer tried to join at `nowMs`. */
  note(nowMs: number): void {
    const dt = Math.max(0, nowMs - this.at);
    this.rate = (this.at === -Infinity ? 0 : this.rate * Math.exp(-dt / JOIN_RATE_WINDOW_MS)) + 1000 / JOIN_RATE_WINDOW_MS;
    this.at = nowMs;
    if (this.rate >= RAMP_JOINS_PER_S) this.lastRampAt = nowMs;
  }

  /** Whether viewers joined at a ramp's rate within the last JOIN_RATE_WINDOW_MS (the overload guard's `joining`). */
  ramping(nowMs: number): boolean {
    return nowMs - this.lastRampAt < JOIN_RATE_WINDOW_MS;
  }

  /** The smoothed rate (joins a second) at `nowMs`. */
  perSecond(nowMs: number): number {
    return this.at === -Infinity ? 0 : this.rate * Math.exp(-Math.max(0, nowMs - this.at) / JOIN_RATE_WINDOW_MS);
  }
}

export interface ShedDecision {
  /** Viewers to close now, newest first. */
  shed: number;
  /** A spell of sustained overload began with this decision (log it). */
  spellStarted: boolean;
  /** The spell ended with this decision (log it, with `spellShed`). */
  spellEnded: boolean;
  /** Viewers shed in the current (or just ended) spell. */
  spellShed: number;
}

export interface ShedOptions {
  sustainMs?: number;
  share?: number;
  maxPerTick?: number;
  joinQuietMs?: number;
  rampMaxMs?: number;
}

export class ShedPolicy {
  private overSince: number | undefined;
  private inSpell = false;
  private spellShed = 0;
  private readonly sustainMs: number;
  private readonly share: number;
  private readonly maxPerTick: number;
  private readonly joinQuietMs: number;
  private readonly rampMaxMs: number;

  constructor(opts: ShedOptions = {}) {
    this.sustainMs = opts.sustainMs ?? SUSTAIN_MS;
    this.share = opts.share ?? SHARE;
    this.maxPerTick = opts.maxPerTick ?? MAX_PER_TICK;
    this.joinQuietMs = opts.joinQuietMs ?? JOIN_QUIET_MS;
    this.rampMaxMs = Math.max(this.sustainMs, opts.rampMaxMs ?? RAMP_MAX_MS);
  }

  /**
   * One decision at `nowMs`: whether the engine is overloaded now, how many viewers it has, and when
   * viewers last came at a ramp's rate (JoinRate.lastRampAt; omitted: never).
   */
  decide(nowMs: number, overloaded: boolean, viewers: number, lastRampAtMs = -Infinity): ShedDecision {
    if (!overloaded) {
      const ended = this.inSpell;
      const spellShed = this.spellShed;
      this.overSince = undefined;
      this.inSpell = false;
      this.spellShed = 0;
      return { shed: 0, spellStarted: false, spellEnded: ended, spellShed };
    }
    this.overSince ??= nowMs;
    const overFor = nowMs - this.overSince;
    const joining = nowMs - lastRampAtMs < this.joinQuietMs;
    if (overFor < this.sustainMs || viewers <= 0 || (!this.inSpell && joining && overFor < this.rampMaxMs)) {
      return { shed: 0, spellStarted: false, spellEnded: false, spellShed: this.spellShed };
    }
    const started = !this.inSpell;
    this.inSpell = true;
    const shed = Math.min(viewers, this.maxPerTick, Math.max(1, Math.floor(viewers * this.share)));
    this.spellShed += shed;
    return { shed, spellStarted: started, spellEnded: false, spellShed: this.spellShed };
  }
}
