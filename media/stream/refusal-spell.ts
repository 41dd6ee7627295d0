/**
 * What the engine logs about admission refusals (pure; unit-tested in refusal-spell.test.ts): one line
 * when it starts refusing new viewers and one when it admits again, with how many it refused and for
 * how long, never a line per refusal. During a join ramp past the ceiling the engine refuses up to
 * ~1,000 viewers a second (issue 15's guard traces, RTMP at 7,200 offered); a log line each is a log
 * flood, written by the very event loop that is behind. The refusals are counted in
 * `onair_media_overload_refusals_total{protocol}` as they happen.
 *
 * A spell ends at the first admitted join: that is when admission is seen to be open again (a guard
 * that recovers while nobody joins has nobody to tell).
 */
export type RefusalNote =
  | { kind: 'started' }
  | { kind: 'ended'; refused: number; durationMs: number }
  | undefined;

export class RefusalSpell {
  private since: number | undefined;
  private refused = 0;

  /** A join was decided at `nowMs` (admitted or refused): what to log, if anything. */
  note(admitted: boolean, nowMs: number): RefusalNote {
    if (!admitted) {
      this.refused++;
      if (this.since !== undefined) return undefined;
      this.since = nowMs;
      return { kind: 'started' };
    }
    if (this.since === undefined) return undefined;
    const ended: RefusalNote = { kind: 'ended', refused: this.refused, durationMs: Math.max(0, nowMs - this.since) };
    this.since = undefined;
    this.refused = 0;
    return ended;
  }

  /** Whether a spell of refusals is running (it has not seen an admitted join since it began). */
  get refusing(): boolean {
    return this.since !== undefined;
  }
}
