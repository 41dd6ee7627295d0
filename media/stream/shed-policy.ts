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
 */

/** Overload must last this long (despite the refusals) before anyone is shed: a GC pause or a burst does not shed. */
export const SUSTAIN_MS = 2000;
/** How often the engine decides while overloaded (and the pause after each batch). */
export const INTERVAL_MS = 500;
/** Share of the current audience shed per decision: 2 % every half second, 20 % in 5 s. */
export const SHARE = 0.02;
/** At most this many viewers per decision (bounds the work of one decision). */
export const MAX_PER_TICK = 200;

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
}

export class ShedPolicy {
  private overSince: number | undefined;
  private inSpell = false;
  private spellShed = 0;
  private readonly sustainMs: number;
  private readonly share: number;
  private readonly maxPerTick: number;

  constructor(opts: ShedOptions = {}) {
    this.sustainMs = opts.sustainMs ?? SUSTAIN_MS;
    this.share = opts.share ?? SHARE;
    this.maxPerTick = opts.maxPerTick ?? MAX_PER_TICK;
  }

  /** One decision at `nowMs`: whether the engine is overloaded now, and how many viewers it has. */
  decide(nowMs: number, overloaded: boolean, viewers: number): ShedDecision {
    if (!overloaded) {
      const ended = this.inSpell;
      const spellShed = this.spellShed;
      this.overSince = undefined;
      this.inSpell = false;
      this.spellShed = 0;
      return { shed: 0, spellStarted: false, spellEnded: ended, spellShed };
    }
    this.overSince ??= nowMs;
    if (nowMs - this.overSince < this.sustainMs || viewers <= 0) {
      return { shed: 0, spellStarted: false, spellEnded: false, spellShed: this.spellShed };
    }
    const started = !this.inSpell;
    this.inSpell = true;
    const shed = Math.min(viewers, this.maxPerTick, Math.max(1, Math.floor(viewers * this.share)));
    this.spellShed += shed;
    return { shed, spellStarted: started, spellEnded: false, spellShed: this.spellShed };
  }
}
