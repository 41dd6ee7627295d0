/**
 * Keeps one publish's outgoing timestamps monotonic and continuous when the publisher's are not:
 * an encoder that restarts its output on the same connection (timestamps back to 0), a 32-bit
 * wrap (past 2^32 ms, or a signed encoder wrapping at 2^31), a broken encoder jumping by 2^31.
 * Like SRS's and nginx-rtmp's users expect: at a discontinuity the new timeline is placed one
 * short step after the newest timestamp sent, and ONE offset is shared by audio and video, so
 * their relation (A/V sync) is what the publisher sent. The outgoing timeline starts at 0 (as
 * SRS's does), so it wraps only after 2^32 ms (49.7 days) of one publish.
 *
 * A discontinuity is a step from the previous audio or video packet (either track) backwards by
 * more than BACKWARD_TOLERANCE_MS or forwards by more than FORWARD_JUMP_MS. Smaller steps pass
 * with the current offset: audio and video interleaved a little out of order, jitter. The RTMP
 * timestamp is the decode time; B-frames' composition offsets live in the body and are untouched.
 *
 * Per packet: a subtraction, two comparisons and an addition; no allocation.
 */

/** A step back larger than this is a reset, not interleave or jitter. */
export const BACKWARD_TOLERANCE_MS = 1000;
/** A step forward larger than this is a jump (the publisher's clock leapt), not a gap in media. */
export const FORWARD_JUMP_MS = 10_000;
/** Where the new timeline is placed after the newest timestamp sent. */
export const DISCONTINUITY_STEP_MS = 10;
const TWO_32 = 0x1_0000_0000;

export type DiscontinuityKind = 'backward' | 'forward' | 'wrap';

export interface Discontinuity {
  kind: DiscontinuityKind;
  /** The publisher's previous and new timestamps (ms, 32-bit). */
  fromTs: number;
  toTs: number;
  /** The offset now added to the publisher's timestamps (ms). */
  offsetMs: number;
}

export class TimestampRebaser {
  /** Added to the publisher's timestamp (may be negative or past 2^32; outputs are taken mod 2^32). */
  private offset = 0;
  private started = false;
  /** Each track's previous outgoing timestamp (before the 32-bit cut); -Infinity before its first. */
  private prevAudio = Number.NEGATIVE_INFINITY;
  private prevVideo = Number.NEGATIVE_INFINITY;
  /** The largest timestamp out so far (before the 32-bit cut). */
  private maxOut = 0;
  /** Discontinuities seen (for logs and tests). */
  count = 0;

  /** Called once per discontinuity (outside the common path). */
  onDiscontinuity: ((d: Discontinuity) => void) | undefined;

  /** The outgoing timestamp of an audio (8) or video (9) frame stamped `ts` (32-bit) by the publisher. */
  media(type: number, ts: number): number {
    if (!this.started) {
      // The outgoing timeline starts at 0, so it wraps only after 2^32 ms of this publish.
      this.started = true;
      this.offset = -ts;
    }
    const video = type === 9;
    const prev = video ? this.prevVideo : this.prevAudio;
    let out = ts + this.offset;
    // Compared with the same track's previous frame, in outgoing time: a track lagging the other
    // is no jump, and once one track's reset moved the offset, the other's follows smoothly.
    const d = out - prev;
    if (d > FORWARD_JUMP_MS || d < -BACKWARD_TOLERANCE_MS) out = this.rebase(prev, ts, d);
    if (video) this.prevVideo = out;
    else this.prevAudio = out;
    if (out > this.maxOut) this.maxOut = out;
    // A frame stamped before the publish's first (a lagging track's first frames): at the start.
    return out < 0 ? 0 : out >>> 0;
  }

  /**
   * The outgoing timestamp of a packet whose own stamp does not place it (metadata, sequence
   * headers): the newest sent (0 before any media), so it never steps back.
   */
  header(): number {
    return this.maxOut >>> 0;
  }

  private rebase(prev: number, ts: number, d: number): number {
    if (prev === Number.NEGATIVE_INFINITY) return ts + this.offset; // the track's first frame: nothing to compare
    let kind: DiscontinuityKind;
    const fromTs = (prev - this.offset) >>> 0;
    if (d < 0 && d + TWO_32 >= -BACKWARD_TOLERANCE_MS && d + TWO_32 <= FORWARD_JUMP_MS) {
      // A 32-bit wrap keeps the real step: 0xFFFFFFF0 then 0x10 is 32 ms later.
      this.offset += TWO_32;
      kind = 'wrap';
    } else {
      this.offset = this.maxOut + DISCONTINUITY_STEP_MS - ts;
      kind = d < 0 ? 'backward' : 'forward';
    }
    this.count++;
    this.onDiscontinuity?.({ kind, fromTs, toTs: ts, offsetMs: this.offset });
    return ts + this.offset;
  }
}
